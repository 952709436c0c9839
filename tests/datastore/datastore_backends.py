"""The storage backends the datastore tests run against, and helpers to reach their bytes.

Every Storage implementation is listed in BACKENDS; the contract tests of Storage and of the
datastore over it are parametrised over all of them, so a new backend is correct when it
passes the same tests. Backend-specific tests live in their own files.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from fixtures.s3 import S3Server
from headwater.datastore.content_store import ContentStore
from headwater.datastore.local_storage import LocalStorage

BACKENDS = ["local", "s3"]


def local_store(root, durable: bool = False) -> ContentStore:
    return ContentStore(LocalStorage(root, durable=durable))


def blob_file(ds: ContentStore, flow: str, key: str) -> str:
    """The file of a blob in a local datastore."""
    return ds.storage.path(ds.blob_key(flow, key))


def attempt_file(ds: ContentStore, path, name: str) -> str:
    return ds.storage.path(f"{ds.attempt_key(path)}/{name}")


def all_files(root) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
    )


class Backend:
    """Makes fresh storage objects (as another process would) for one backend and test.

    For S3 the bucket is named after the test's temp directory, so a forked worker that
    builds ``Backend(kind, tmp_path)`` reaches the same one on the session's server."""

    def __init__(self, kind: str, tmp_path) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.root = str(tmp_path / "root")
        self.bucket = "hw-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:20]

    @property
    def server(self) -> S3Server:
        assert S3Server.current is not None, "the s3 backend needs the s3_server fixture"
        return S3Server.current

    def storage(self):
        if self.kind == "local":
            return LocalStorage(self.root)
        if self.kind == "s3":
            from headwater.datastore.s3_storage import S3Storage

            return S3Storage(f"s3://{self.bucket}/root", self.server.endpoint_url)
        raise AssertionError(self.kind)

    def store(self) -> ContentStore:
        return ContentStore(self.storage())

    def temp_objects(self) -> list[str]:
        """Leftovers of writes (temp files; unfinished multipart uploads), which must never
        stay behind."""
        if self.kind == "local":
            return [f for f in all_files(self.root) if f.endswith(".tmp")]
        if self.kind == "s3":
            got = self.server.client.list_multipart_uploads(Bucket=self.bucket)
            return [u["Key"] for u in got.get("Uploads", ())]
        raise AssertionError(self.kind)


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Backend:
    b = Backend(request.param, tmp_path)
    if b.kind == "s3":
        request.getfixturevalue("s3_server").create_bucket(b.bucket)
    return b
