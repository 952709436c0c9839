"""The s3 datastore under faults, injected by a proxy between boto3 and a real S3 server
(tests/fixtures/fault_proxy.py): throttling, 5xx, dropped connections, lost answers and
truncated bodies are retried by every operation; no object is ever visible half-written; and
a blob damaged in the bucket is reported on read, never returned."""

from __future__ import annotations

import numpy as np
import pytest

from headwater.datastore import s3_client
from headwater.datastore.content_store import ContentStore
from headwater.datastore.s3_storage import S3Storage
from headwater.datastore.storage import KeyNotFound
from headwater.exceptions import CorruptBlob, DatastoreError

MB = 1 << 20
PART = 5 * MB  # the smallest part S3 takes
FLOW = "FaultFlow"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """Retries wait milliseconds, not seconds (the schedule is the same, scaled down)."""
    monkeypatch.setattr(s3_client, "BACKOFF_BASE", 0.002)


@pytest.fixture
def direct(s3_bucket) -> S3Storage:
    """The bucket, reached without the proxy (to set up and check)."""
    s = S3Storage(s3_bucket.root, s3_bucket.endpoint_url)
    s.part_size = PART
    return s


@pytest.fixture
def faulty(s3_bucket, fault_proxy) -> S3Storage:
    """The same bucket through the fault proxy."""
    s = S3Storage(s3_bucket.root, fault_proxy.endpoint_url)
    s.part_size = PART
    return s


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


def big_bytes(n: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def operations(direct: S3Storage, faulty: S3Storage):
    """(name, what the proxy should fault, the operation, a check of its result)."""
    big = big_bytes(3 * PART + 123)
    direct.put("F/there", [b"payload"])
    direct.put("F/big-there", [big])
    direct.put_many([(f"F/many/{i}", b"%d" % i) for i in range(3)])

    def check_get_big():
        assert bytes(faulty.get("F/big-there")) == big

    def log():
        sink = faulty.appender("F/1/s/1/0/stdout")
        sink.write(b"line\n")
        sink.close()
        return bytes(direct.get("F/1/s/1/0/stdout"))

    return [
        ("put", "PUT", lambda: faulty.put("F/new", [b"abc"]), lambda r: r is True),
        ("put-if-absent", "PUT", lambda: faulty.put("F/blob", [b"x"], if_absent=True), None),
        ("get", "GET", lambda: bytes(faulty.get("F/there")), lambda r: r == b"payload"),
        ("get-range", "GET", lambda: faulty.get_range("F/there", 3, 2), lambda r: r == b"lo"),
        ("exists", "HEAD", lambda: faulty.exists("F/there"), lambda r: r is True),
        ("size", "HEAD", lambda: faulty.size("F/there"), lambda r: r == 7),
        ("list", "GET /", lambda: faulty.list("F/many"), lambda r: len(r) == 3),
        ("get-many", "GET", lambda: faulty.get_many(["F/many/0", "F/many/2"]),
         lambda r: r == {"F/many/0": b"0", "F/many/2": b"2"}),
        ("put-many", "PUT", lambda: faulty.put_many([("F/pm/a", b"a"), ("F/pm/b", b"b")]),
         lambda r: direct.get_many(["F/pm/a", "F/pm/b"]) == {"F/pm/a": b"a", "F/pm/b": b"b"}),
        ("copy", "PUT", lambda: faulty.copy("F/there", "G/copied"),
         lambda r: r is True and bytes(direct.get("G/copied")) == b"payload"),
        ("delete", "DELETE", lambda: faulty.delete("F/new"), lambda r: not direct.exists("F/new")),
        ("log", "PUT", log, lambda r: r == b"line\n"),
        ("multipart: start", "POST /", lambda: faulty.put("F/mp1", [big]),
         lambda r: bytes(direct.get("F/mp1")) == big),
        ("multipart: a part", "partNumber=2", lambda: faulty.put("F/mp2", [big]),
         lambda r: bytes(direct.get("F/mp2")) == big),
        ("multipart: complete", "POST /", lambda: faulty.put("F/mp3", [big]),
         lambda r: bytes(direct.get("F/mp3")) == big),
        ("ranged read: a part", "GET", lambda: check_get_big(), None),
    ]  # fmt: skip


SKIPS = {"multipart: complete": 1, "ranged read: a part": 2}  # the request after the first


@pytest.mark.parametrize("fault", ["503", "500", "drop"])
def test_every_operation_retries_through_server_errors_and_dropped_connections(
    direct, faulty, fault_proxy, fault
):
    for name, on, op, check in operations(direct, faulty):
        fault_proxy.clear()
        rule = fault_proxy.inject(fault, on=on, times=2, skip=SKIPS.get(name, 0))
        result = op()
        assert rule.applied == 2, f"{name}: the fault was not injected"
        assert check is None or check(result), f"{name}: wrong result {result!r}"
    assert fault_proxy.faults(), "no fault was injected at all"


def test_truncated_bodies_are_read_again(direct, faulty, fault_proxy):
    big = big_bytes(3 * PART + 5, seed=1)
    direct.put("F/small", [b"0123456789" * 100])
    direct.put("F/big", [big])
    for i in range(5):
        direct.put(f"F/list/{i}", [b"x"])
    checks = [
        ("GET", lambda: bytes(faulty.get("F/small")) == b"0123456789" * 100),
        ("GET", lambda: bytes(faulty.get("F/big")) == big),
        ("GET", lambda: faulty.get_range("F/small", 10, 500) == (b"0123456789" * 100)[10:510]),
        ("GET", lambda: faulty.get_many(["F/small"]) == {"F/small": b"0123456789" * 100}),
        ("list-type=2", lambda: [k for k, _ in faulty.list("F/list")] ==
         [f"F/list/{i}" for i in range(5)]),
    ]  # fmt: skip
    for on, check in checks:
        fault_proxy.clear()
        rule = fault_proxy.inject("truncate", on=on, times=2)
        assert check()
        assert rule.applied == 2
    # the parts of a large ranged read, each truncated once
    fault_proxy.clear()
    rule = fault_proxy.inject("truncate", on="GET", times=4)
    assert bytes(faulty.get("F/big")) == big
    assert rule.applied == 4


def test_a_write_whose_answer_was_lost_is_not_repeated_as_a_failure(direct, faulty, fault_proxy):
    """The server stored the object but the client never heard: the retry must succeed
    (a conditional write finds it there; a completed multipart upload is recognized)."""
    fault_proxy.inject("lost", on="PUT", times=1)
    assert faulty.put("F/a", [b"data"], if_absent=True) in (True, False)
    assert bytes(direct.get("F/a")) == b"data"

    big = big_bytes(2 * PART + 1, seed=2)
    fault_proxy.inject("lost", on="POST /", skip=1, times=1)  # the CompleteMultipartUpload
    faulty.put("F/mp", [big])
    assert bytes(direct.get("F/mp")) == big
    fault_proxy.inject("lost", on="POST /", skip=1, times=1)
    faulty.put("F/mp-if-absent", [big], if_absent=True)
    assert bytes(direct.get("F/mp-if-absent")) == big
    # a server that forgets a completed upload at once answers the retry NoSuchUpload
    fault_proxy.inject("lost", on="POST /", skip=1, times=1)
    fault_proxy.inject("NoSuchUpload", on="POST /", skip=2, times=1)
    faulty.put("F/mp-forgotten", [big])
    assert bytes(direct.get("F/mp-forgotten")) == big
    assert [f for _, f in fault_proxy.faults()] == ["lost"] * 4 + ["NoSuchUpload"]
    # while an upload that vanished before it completed is an error
    fault_proxy.inject("NoSuchUpload", on="POST /", skip=1, times=1)
    with pytest.raises(DatastoreError) as e:
        faulty.put("F/mp-vanished", [big])
    assert "NoSuchUpload" in one_line(e)
    assert not direct.exists("F/mp-vanished")


def test_persistent_throttling_gives_a_one_line_error_after_the_retries(faulty, fault_proxy):
    fault_proxy.inject("503", times=1000)
    with pytest.raises(DatastoreError) as e:
        faulty.get("F/anything")
    msg = one_line(e)
    assert "F/anything" in msg and "SlowDown" in msg and "try again later" in msg
    assert len(fault_proxy.requests()) == s3_client.MAX_ATTEMPTS


def test_no_large_object_is_ever_visible_half_written(direct, faulty, fault_proxy, s3_bucket):
    """A multipart upload that fails for good leaves no object and no upload behind, and
    while one is under way a reader sees nothing or the whole object."""
    big = big_bytes(4 * PART, seed=3)
    fault_proxy.inject("drop", on="partNumber=3", times=1000)
    with pytest.raises(DatastoreError) as e:
        faulty.put("F/never", [big])
    assert "F/never" in one_line(e)
    assert not direct.exists("F/never")
    assert s3_bucket.uploads() == []

    seen = []

    def look(request: str) -> None:  # runs while the upload's parts are arriving
        try:
            seen.append(bytes(direct.get("F/whole")))
        except KeyNotFound:
            seen.append(None)

    fault_proxy.clear()
    fault_proxy.inject(look, on="partNumber=", times=4)
    faulty.put("F/whole", [big])
    assert seen == [None] * 4
    assert bytes(direct.get("F/whole")) == big
    assert s3_bucket.uploads() == []


def test_a_blob_saved_through_faults_loads_back_and_none_is_half_written(
    s3_bucket, faulty, fault_proxy
):
    store = ContentStore(faulty)
    arr = np.random.default_rng(4).random(5 * MB // 8 * 9)  # 45 MB: streamed, multipart
    fault_proxy.inject("503", on="partNumber=", times=3)
    fault_proxy.inject("truncate", on="GET", times=3)
    key = store.save_values(FLOW, {"arr": arr})["arr"].key
    np.testing.assert_array_equal(ContentStore(faulty).load_value(FLOW, key), arr)
    assert {f for _, f in fault_proxy.faults()} == {"503", "truncate"}

    fault_proxy.clear()
    fault_proxy.inject("drop", on="partNumber=", times=1000)
    with pytest.raises(DatastoreError) as e:
        store.save_values(FLOW, {"other": arr + 1})
    assert "artifact 'other'" in one_line(e)
    assert [k for k, _ in faulty.list(f"{FLOW}/blobs")] == [store.blob_key(FLOW, key)]
    assert s3_bucket.uploads() == []


@pytest.mark.parametrize("size", [100, 3 * PART])
def test_a_blob_damaged_in_the_bucket_is_detected_on_read(s3_bucket, direct, size):
    store = ContentStore(direct)
    value = np.arange(size // 8, dtype=np.float64)
    key = store.save_values(FLOW, {"x": value})["x"].key
    name = f"{s3_bucket.prefix}/{store.blob_key(FLOW, key)}"
    stored = bytearray(s3_bucket.client.get_object(Bucket=s3_bucket.name, Key=name)["Body"].read())
    stored[-3] ^= 0xFF  # one flipped byte, written behind the datastore's back
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=name, Body=bytes(stored))
    with pytest.raises(CorruptBlob) as e:
        ContentStore(S3Storage(s3_bucket.root, s3_bucket.endpoint_url)).load_value(FLOW, key)
    assert store.blob_key(FLOW, key) in one_line(e)
    # cut short in the bucket: also reported, never returned
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=name, Body=bytes(stored[: size // 2]))
    with pytest.raises(CorruptBlob):
        ContentStore(S3Storage(s3_bucket.root, s3_bucket.endpoint_url)).load_value(FLOW, key)
