"""S3-specific behaviour of the s3 datastore (the Storage and datastore contracts run on S3
too, from test_storage_contract.py and test_content_store.py): multipart sizes, parallel
ranged reads, pagination, logs, fork safety, settings, lazy boto3 and error headlines.

Requests are observed, where it matters, through the fault proxy with no fault set."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time

import numpy as np
import pytest

from fixtures.s3 import free_port
from headwater.datastore import s3_client, s3_log, s3_storage
from headwater.datastore.content_store import ContentStore
from headwater.datastore.s3_storage import S3Storage
from headwater.exceptions import DatastoreError, SettingsError

MB = 1 << 20
PART = 5 * MB  # the smallest part S3 takes


@pytest.fixture
def watched(s3_bucket, fault_proxy) -> S3Storage:
    """The test's bucket through the proxy, which logs every request; parts of 5 MB."""
    s = S3Storage(s3_bucket.root, fault_proxy.endpoint_url)
    s.part_size = PART
    return s


@pytest.fixture
def direct(s3_bucket) -> S3Storage:
    return S3Storage(s3_bucket.root, s3_bucket.endpoint_url)


def data(n: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


# --- large objects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "parts"), [(PART, 0), (PART + 1, 2), (3 * PART, 3), (3 * PART + 7, 4)]
)
def test_objects_above_the_part_size_are_uploaded_in_parts(watched, fault_proxy, size, parts):
    payload = data(size)
    m = (size - 100) // 16 * 8  # bytes of 8-byte items: a view whose len() counts items
    floats = np.frombuffer(payload[100 : 100 + m], dtype=np.float64)
    chunks = [payload[:3], bytearray(payload[3:100]), memoryview(floats), payload[100 + m :]]
    watched.put("F/big", chunks)
    assert len(fault_proxy.requests("partNumber=")) == parts
    assert len(fault_proxy.requests("PUT /")) == max(parts, 1)
    assert bytes(watched.get("F/big")) == payload


def test_a_huge_object_gets_bigger_parts_to_stay_within_the_part_limit(
    watched, fault_proxy, monkeypatch
):
    monkeypatch.setattr(s3_storage, "MAX_PARTS", 3)  # S3's is 10,000: as if the object were huge
    payload = data(5 * PART + 11)
    watched.put("F/huge", [payload])
    assert len(fault_proxy.requests("partNumber=")) == 3
    assert bytes(watched.get("F/huge")) == payload


def test_large_objects_are_read_by_parallel_ranged_gets_into_one_buffer(watched, fault_proxy):
    payload = data(4 * PART + 3, seed=1)
    watched.put("F/big", [payload])
    fault_proxy.clear()
    got = watched.get("F/big")
    assert isinstance(got, bytearray) and got == payload  # writable, as the protocol says
    gets = fault_proxy.requests("GET /")
    ranges = sorted(g.headers["range"] for g in gets)
    starts = [0, PART, 2 * PART, 3 * PART, 4 * PART]
    assert ranges == sorted(f"bytes={s}-{min(s + PART, len(payload)) - 1}" for s in starts)
    # every part after the first is pinned to the version the first one read
    etag = next(g for g in gets if g.headers["range"].startswith("bytes=0-"))
    assert all("if-match" in g.headers for g in gets if g is not etag)


def test_an_object_replaced_while_its_parts_are_read_is_never_returned_mixed(
    watched, direct, fault_proxy
):
    old, new = data(3 * PART, seed=2), data(3 * PART, seed=3)
    direct.put("F/obj", [old])
    replaced = []

    def replace(request: str) -> None:
        if not replaced:
            direct.put("F/obj", [new])
            replaced.append(request)

    fault_proxy.inject(replace, on="GET", skip=1)  # after the first part was read
    assert bytes(watched.get("F/obj")) == new
    assert replaced


def test_a_large_streamed_artifact_round_trips(watched, fault_proxy):
    store = ContentStore(watched)
    arr = np.random.default_rng(5).random(6 * PART // 8)  # 30 MB: hashed while uploaded
    ref = store.save_values("BigFlow", {"arr": arr})["arr"]
    assert len(fault_proxy.requests("partNumber=")) == 7
    again = ContentStore(S3Storage(watched.url, watched.endpoint_url))
    loaded = again.load_value("BigFlow", ref.key)
    np.testing.assert_array_equal(loaded, arr)
    assert loaded.flags.writeable
    # saved again by another process: one HEAD finds it, nothing is uploaded
    fault_proxy.clear()
    other = ContentStore(S3Storage(watched.url, watched.endpoint_url))
    assert other.save_values("BigFlow", {"copy": arr.copy()})["copy"].key == ref.key
    assert [s.request.split()[0] for s in fault_proxy.log] == ["HEAD"]


# --- many objects -------------------------------------------------------------------------------


def test_list_pages_through_more_than_a_thousand_keys(watched, fault_proxy):
    keys = [f"F/many/{i:05d}" for i in range(1050)]
    watched.put_many([(k, b"%d" % i) for i, k in enumerate(keys)])
    fault_proxy.clear()
    listed = watched.list("F/many")
    assert listed == [(k, len(b"%d" % i)) for i, k in enumerate(keys)]
    assert len(fault_proxy.requests("list-type=2")) == 2  # S3 returns 1000 keys a page
    got = watched.get_many(keys[995:1010])
    assert got == {k: b"%d" % (995 + i) for i, k in enumerate(keys[995:1010])}


def test_put_if_absent_is_decided_by_the_server(watched, fault_proxy):
    assert watched.put("F/blob", [b"first"], if_absent=True)
    assert not watched.put("F/blob", [b"second"], if_absent=True)
    assert bytes(watched.get("F/blob")) == b"first"
    puts = fault_proxy.requests("PUT /")
    assert len(puts) == 2 and all(p.headers.get("if-none-match") == "*" for p in puts)
    assert not fault_proxy.requests("HEAD")  # no check-then-write race


def test_put_keyed_later_patches_across_chunks_and_leaves_the_callers_bytes_alone(watched):
    head, body = bytearray(b"ABCD"), b"efgh"
    key = watched.put_keyed_later("F/blobs", [head, body], lambda: ("F/blobs/ab/abcd", 2, b"XYZ"))
    assert key == "F/blobs/ab/abcd"
    assert bytes(watched.get(key)) == b"ABXYZfgh"
    assert head == b"ABCD"


# --- logs -------------------------------------------------------------------------------------


def test_a_log_is_written_in_the_background_and_on_flush(watched, direct, fault_proxy, monkeypatch):
    monkeypatch.setattr(s3_log, "FLUSH_EVERY", 60.0)
    sink = watched.appender("F/1/s/2/0/stdout")
    sink.write(b"one\n")
    assert not fault_proxy.requests("PUT")  # write never waits for the network
    sink.flush()
    assert bytes(direct.get("F/1/s/2/0/stdout")) == b"one\n"
    sink.flush()  # nothing new: no request
    assert len(fault_proxy.requests("PUT")) == 1
    sink.close()

    monkeypatch.setattr(s3_log, "FLUSH_EVERY", 0.2)
    follow = watched.appender("F/1/s/3/0/stdout")
    follow.write(b"running...\n")
    deadline = time.monotonic() + 30
    while not direct.exists("F/1/s/3/0/stdout"):  # readable with no flush from the writer
        assert time.monotonic() < deadline, "the log was never flushed by itself"
        time.sleep(0.05)
    assert bytes(direct.get("F/1/s/3/0/stdout")) == b"running...\n"
    follow.write(b"done\n")
    follow.close()
    assert bytes(direct.get("F/1/s/3/0/stdout")) == b"running...\ndone\n"


# --- processes, settings, packaging -------------------------------------------------------------


def test_storages_share_one_client_and_a_forked_child_opens_its_own_connections(
    watched, fault_proxy
):
    other = S3Storage(watched.url, watched.endpoint_url)
    assert other.client is watched.client  # creating a storage costs no new client
    watched.put("F/x", [b"parent"])
    parent_ports = {s.client_port for s in fault_proxy.log}
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            same = S3Storage(watched.url, watched.endpoint_url).client is other.client
            ok = bytes(S3Storage(watched.url, watched.endpoint_url).get("F/x")) == b"parent"
            os.write(w, b"%d %d" % (same, ok))
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    answer = os.read(r, 100).split()
    os.close(r)
    assert os.waitpid(pid, 0)[1] == 0
    assert answer == [b"1", b"1"]  # the child kept the client (no 0.2 s rebuild) ...
    child_get = fault_proxy.requests("GET")[-1]
    assert child_get.client_port not in parent_ports  # ... with connections of its own
    watched.put("F/y", [b"again"])  # the parent's pool still works
    assert fault_proxy.log[-1].client_port in parent_ports


def run_python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120
    )


def test_importing_and_creating_a_storage_does_not_import_boto3():
    proc = run_python(
        "import sys\n"
        "from headwater.datastore.s3_storage import S3Storage\n"
        "S3Storage('s3://bucket/prefix')\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'urllib3') if m in sys.modules))\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_without_boto3_the_error_says_which_extra_to_install():
    proc = run_python(
        "import sys\n"
        "class NoBoto:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('boto3', 'botocore'):\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, NoBoto())  # as if boto3 were not installed\n"
        "from headwater.datastore.s3_storage import S3Storage\n"
        "from headwater.exceptions import MissingExtra\n"
        "try:\n"
        "    S3Storage('s3://bucket/prefix').exists('x')\n"
        "except MissingExtra as e:\n"
        "    print(e)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'headwater[s3]'" in proc.stdout and "boto3" in proc.stdout


def test_the_resolver_opens_s3_from_the_settings(s3_bucket, monkeypatch):
    from headwater.stores import open_datastore, settings_for

    s3_bucket.use(monkeypatch)
    settings = settings_for()
    assert (settings.datastore, settings.datastore_root) == ("s3", s3_bucket.root)
    ds = open_datastore(settings.datastore, settings.datastore_root, settings)
    assert isinstance(ds.storage, S3Storage) and ds.url == s3_bucket.root
    assert ds.storage.endpoint_url == s3_bucket.endpoint_url
    key = ds.save_values("F", {"x": 41})["x"].key
    # pickled for another process, it reaches the same store
    assert pickle.loads(pickle.dumps(ds)).load_value("F", key) == 41


@pytest.mark.parametrize(
    "root", ["s3://", "s3://ab", "gs://bucket/x", "s3://bucket/a/../b", "s3://bu cket/x", "/tmp/x"]
)
def test_a_bad_root_is_a_one_line_settings_error(root):
    with pytest.raises(SettingsError) as e:
        S3Storage(root)
    assert "s3://bucket/prefix" in one_line(e)


def test_roots_with_and_without_a_prefix(s3_bucket):
    assert S3Storage(f"s3://{s3_bucket.name}/").url == f"s3://{s3_bucket.name}"
    assert S3Storage(f"s3://{s3_bucket.name}/a/b/").url == f"s3://{s3_bucket.name}/a/b"
    bare = S3Storage(f"s3://{s3_bucket.name}", s3_bucket.endpoint_url)
    bare.put("F/k", [b"v"])
    assert s3_bucket.object_keys() == ["F/k"]
    assert bare.list("F") == [("F/k", 1)]


# --- error headlines ----------------------------------------------------------------------------


def test_a_missing_bucket_says_so(s3_server):
    s = S3Storage("s3://hw-no-such-bucket/prefix", s3_server.endpoint_url)
    with pytest.raises(DatastoreError) as e:
        s.put("F/k", [b"x"])
    msg = one_line(e)
    assert "'hw-no-such-bucket' does not exist" in msg and "create it" in msg


@pytest.mark.parametrize(
    ("fault", "expected"),
    [("403", "access denied"), ("InvalidAccessKeyId", "rejected the credentials")],
)
def test_refused_requests_name_the_object_and_what_to_check(watched, fault_proxy, fault, expected):
    fault_proxy.inject(fault, times=100)
    with pytest.raises(DatastoreError) as e:
        watched.get("F/k")
    msg = one_line(e)
    assert expected in msg and f"{watched.url}/F/k" in msg and "AWS_" in msg
    assert len(fault_proxy.log) == 1  # not retried: it would fail the same way


def test_no_credentials_says_how_to_give_them(s3_bucket, tmp_path):
    proc = run_python(
        "from headwater.datastore.s3_storage import S3Storage\n"
        "from headwater.exceptions import DatastoreError\n"
        f"s = S3Storage({s3_bucket.root!r}, {s3_bucket.endpoint_url!r})\n"
        "try:\n"
        "    s.get('F/k')\n"
        "except DatastoreError as e:\n"
        "    print(e)\n",
        env={
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert "no AWS credentials" in proc.stdout and "AWS_ACCESS_KEY_ID" in proc.stdout


def test_an_unreachable_endpoint_says_so_after_retrying(s3_bucket, monkeypatch):
    monkeypatch.setattr(s3_client, "BACKOFF_BASE", 0.002)
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(DatastoreError) as e:
        S3Storage(s3_bucket.root, nowhere).exists("F/k")
    msg = one_line(e)
    assert f"cannot reach the S3 endpoint {nowhere}" in msg
    assert "HEADWATER_S3_ENDPOINT_URL" in msg
