"""The Storage contract: every backend (datastore_backends.BACKENDS) passes these tests."""

from __future__ import annotations

import multiprocessing

import pytest

from headwater.datastore.storage import KeyNotFound, check_key
from headwater.exceptions import DatastoreError


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


def test_put_then_get_from_a_fresh_object(backend):
    s = backend.storage()
    assert s.put("F/a/b", [b"hello ", bytearray(b"big "), memoryview(b"world")])
    assert bytes(backend.storage().get("F/a/b")) == b"hello big world"
    assert s.exists("F/a/b") and s.size("F/a/b") == 15
    assert not s.exists("F/a/c") and s.size("F/a/c") is None


def test_empty_object(backend):
    s = backend.storage()
    s.put("F/empty", [])
    assert bytes(s.get("F/empty")) == b"" and s.size("F/empty") == 0


def test_put_replaces_unless_if_absent(backend):
    s = backend.storage()
    s.put("F/k", [b"one"])
    s.put("F/k", [b"two"])
    assert bytes(s.get("F/k")) == b"two"
    assert s.put("F/k", [b"three"], if_absent=True) is False
    assert bytes(s.get("F/k")) == b"two"
    assert s.put("F/new", [b"x"], if_absent=True) is True


def test_missing_key_raises_key_not_found(backend):
    s = backend.storage()
    with pytest.raises(KeyNotFound) as e:
        s.get("F/none")
    assert e.value.key == "F/none"
    one_line(e)
    with pytest.raises(KeyNotFound):
        s.get_range("F/none", 0, 10)
    assert isinstance(e.value, DatastoreError)


def test_get_range(backend):
    s = backend.storage()
    data = bytes(range(256)) * 40
    s.put("F/r", [data])
    assert s.get_range("F/r", 0, 10) == data[:10]
    assert s.get_range("F/r", 1000, 300) == data[1000:1300]
    assert s.get_range("F/r", len(data) - 5, 100) == data[-5:]  # fewer at the end


def test_get_many_and_put_many(backend):
    s = backend.storage()
    s.put_many([(f"F/m/{i}", f"v{i}".encode()) for i in range(20)])
    got = s.get_many([f"F/m/{i}" for i in range(20)] + ["F/m/missing"])
    assert got == {**{f"F/m/{i}": f"v{i}".encode() for i in range(20)}, "F/m/missing": None}


def test_list_is_recursive_sorted_and_has_sizes(backend):
    s = backend.storage()
    for key, data in [("F/1/b", b"bb"), ("F/1/a/x", b"x"), ("F/10/c", b"ccc"), ("G/1/z", b"")]:
        s.put(key, [data])
    assert s.list("F/1") == [("F/1/a/x", 1), ("F/1/b", 2)]  # not F/10: prefix is a folder
    assert s.list("F") == [("F/1/a/x", 1), ("F/1/b", 2), ("F/10/c", 3)]
    assert s.list("nothing/here") == []


def test_delete(backend):
    s = backend.storage()
    s.put("F/d", [b"x"])
    s.delete("F/d")
    assert not s.exists("F/d")
    s.delete("F/d")  # already gone: fine


def test_copy_inside_the_backend(backend):
    s = backend.storage()
    s.put("F/src", [b"payload"])
    assert s.copy("F/src", "G/dst/x")
    assert bytes(s.get("G/dst/x")) == b"payload"
    s.put("G/dst/x", [b"other"])  # the copy is independent of its source
    assert bytes(s.get("F/src")) == b"payload"
    assert s.copy("F/none", "G/y") is False
    assert not s.exists("G/y")


def test_put_keyed_later_names_the_object_after_writing(backend):
    s = backend.storage()
    calls = []

    def finish():
        calls.append(1)
        return "F/blobs/ab/abcdef", 2, b"XY"

    assert s.put_keyed_later("F/blobs", [b"01", b"2345"], finish) == "F/blobs/ab/abcdef"
    assert calls == [1]
    assert bytes(s.get("F/blobs/ab/abcdef")) == b"01XY45"  # the patch went in
    assert backend.temp_objects() == []


def test_put_keyed_later_drops_what_is_not_wanted(backend):
    s = backend.storage()
    s.put("F/blobs/cd/cdef", [b"kept"])
    assert s.put_keyed_later("F/blobs", [b"data"], lambda: None) is None
    # a key that exists is kept as it is (same content, by construction, for blobs)
    assert s.put_keyed_later("F/blobs", [b"new!"], lambda: ("F/blobs/cd/cdef", 0, b"")) is None
    assert bytes(s.get("F/blobs/cd/cdef")) == b"kept"
    assert [k for k, _ in s.list("F/blobs")] == ["F/blobs/cd/cdef"]
    assert backend.temp_objects() == []


def test_appender_makes_a_readable_log(backend):
    s = backend.storage()
    sink = s.appender("F/1/s/1/0/stdout")
    sink.write(b"line one\n")
    sink.write(b"line two\n")
    sink.flush()
    assert bytes(s.get("F/1/s/1/0/stdout")) == b"line one\nline two\n"
    sink.write(b"\xffraw")
    sink.close()
    assert bytes(backend.storage().get("F/1/s/1/0/stdout")) == b"line one\nline two\n\xffraw"


def test_an_appender_that_never_wrote_leaves_nothing(backend):
    s = backend.storage()
    s.appender("F/1/s/1/0/stderr").close()
    assert not s.exists("F/1/s/1/0/stderr")


@pytest.mark.parametrize(
    "bad", ["", "/F/a", "F/a/", "F//a", "F/../a", "..", "F/./a", "F\\a", "F/a\0b"]
)
def test_keys_that_could_escape_the_root_are_refused(backend, bad):
    s = backend.storage()
    for call in (
        lambda: s.put(bad, [b"x"]),
        lambda: s.get(bad),
        lambda: s.exists(bad),
        lambda: s.list(bad),
        lambda: s.delete(bad),
    ):
        with pytest.raises(DatastoreError) as e:
            call()
        assert not isinstance(e.value, KeyNotFound)
        one_line(e)
    with pytest.raises(DatastoreError):
        check_key(bad)


def _writer(backend_kind, tmp_path, key, payload, barrier, rounds):
    from datastore_backends import Backend

    s = Backend(backend_kind, tmp_path).storage()
    for _ in range(rounds):
        barrier.wait()
        s.put(key, [payload])


def test_concurrent_writers_of_one_key_never_show_a_mix(backend):
    """Readers see one writer's whole object, never a part or a mix of two."""
    ctx = multiprocessing.get_context("fork")
    size = 1 << 20
    payloads = [bytes([i]) * size for i in range(3)]
    barrier = ctx.Barrier(len(payloads))
    procs = [
        ctx.Process(
            target=_writer, args=(backend.kind, backend.tmp_path, "F/shared", p, barrier, 5)
        )
        for p in payloads
    ]
    for p in procs:
        p.start()
    s = backend.storage()
    seen = set()
    while any(p.is_alive() for p in procs):
        try:
            data = bytes(s.get("F/shared"))
        except KeyNotFound:
            continue
        assert data in payloads
        seen.add(data[0])
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert bytes(s.get("F/shared")) in payloads
    assert backend.temp_objects() == []
