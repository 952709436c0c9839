"""The storage backends the datastore tests run against, and helpers to reach their bytes.

Every Storage implementation is listed in BACKENDS; the contract tests of Storage and of the
datastore over it are parametrised over all of them, so a new backend is correct when it
passes the same tests. Backend-specific tests live in their own files.
"""

from __future__ import annotations

import os

import pytest

from headwater.datastore.content_store import ContentStore
from headwater.datastore.local_storage import LocalStorage

BACKENDS = ["local"]


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
    """Makes fresh storage objects (as another process would) for one backend and test."""

    def __init__(self, kind: str, tmp_path) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.root = str(tmp_path / "root")

    def storage(self):
        if self.kind == "local":
            return LocalStorage(self.root)
        raise AssertionError(self.kind)

    def store(self) -> ContentStore:
        return ContentStore(self.storage())

    def temp_objects(self) -> list[str]:
        """Leftovers of writes (temp files), which must never stay behind."""
        if self.kind == "local":
            return [f for f in all_files(self.root) if f.endswith(".tmp")]
        return []


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Backend:
    return Backend(request.param, tmp_path)
