"""The datastore over every storage backend: dedup, indexes, logs, results, cards, code
packages, damaged objects, concurrency. Local-disk specifics are in test_local_storage.py."""

from __future__ import annotations

import json
import multiprocessing
import threading

import numpy as np
import pandas as pd
import pytest

from headwater.core.ids import AttemptPath
from headwater.core.splits import FrameKind, SplitFrame
from headwater.datastore.records import INDEX_VERSION, ArtifactRef, TaskIndex
from headwater.exceptions import (
    CorruptBlob,
    DatastoreError,
    IndexNotFound,
    UnpicklableArtifact,
    UnsupportedFormat,
)
from headwater.serde.blob import FORMAT_VERSION

FLOW = "HelloFlow"


class Model:
    def __init__(self, weights):
        self.weights = weights


def attempt(run="1", step="start", task="2", n=0) -> AttemptPath:
    return AttemptPath(FLOW, run, step, task, n)


def blob_keys(store, flow=FLOW) -> list[str]:
    return [k for k, _ in store.storage.list(f"{flow}/blobs")]


def tamper(store, key: str, data: bytes) -> None:
    """Replace an object's bytes behind the datastore's back (damage, foreign content)."""
    store.storage.put(key, [data])


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


@pytest.fixture
def store(backend):
    return backend.store()


# --- keys --------------------------------------------------------------------------------------


def test_key_layout_follows_the_design(store):
    refs = store.save_values(FLOW, {"x": 42})
    key = refs["x"].key
    assert store.blob_key(FLOW, key) == f"{FLOW}/blobs/{key[:2]}/{key}"
    assert blob_keys(store) == [f"{FLOW}/blobs/{key[:2]}/{key}"]
    p = attempt(run="7", step="train", task="13", n=2)
    assert store.attempt_key(p) == f"{FLOW}/7/train/13/2"
    store.write_index(p, TaskIndex(refs))
    store.write_result(p, b"{}")
    sink = store.open_log(p, "stdout")
    sink.write(b"x")
    sink.close()
    listed = [k for k, _ in store.storage.list(f"{FLOW}/7")]
    assert listed == [f"{FLOW}/7/train/13/2/{n}" for n in ("index.json", "result.json", "stdout")]


@pytest.mark.parametrize("bad", ["..", ".", "", "a/b", "a\\b"])
def test_names_that_escape_the_root_are_rejected(store, bad):
    with pytest.raises(DatastoreError) as e:
        store.write_index(attempt(run=bad), TaskIndex({}))
    one_line(e)
    with pytest.raises(DatastoreError):
        store.save_values(bad, {"x": 1})
    with pytest.raises(DatastoreError):
        store.read_log(attempt(task=bad), "stdout")


def test_malformed_key_is_rejected(store):
    with pytest.raises(DatastoreError):
        store.load_value(FLOW, "../../etc/passwd")
    with pytest.raises(DatastoreError):
        store.blob_key(FLOW, "")


# --- values ----------------------------------------------------------------------------------


def test_save_and_load_round_trip(store, backend):
    rng = np.random.default_rng(0)
    values = {
        "alpha": 1,
        "name": "héllo",
        "nothing": None,
        "table": pd.DataFrame({"a": rng.random(1000), "b": [f"s{i}" for i in range(1000)]}),
        "arr": rng.random((200, 300)),
        "model": Model([1.0, 2.0]),
        "text": "repeat me " * 20_000,
    }
    refs = store.save_values(FLOW, values)
    assert set(refs) == set(values)
    assert refs["alpha"].type == "builtins.int"
    assert refs["table"].type == "pandas.DataFrame"
    assert refs["model"].type == f"{__name__}.Model"
    assert all(isinstance(r, ArtifactRef) and r.size > 0 for r in refs.values())

    fresh = backend.store()  # another process reading: no shared state
    assert fresh.load_value(FLOW, refs["alpha"].key) == 1
    assert fresh.load_value(FLOW, refs["name"].key) == "héllo"
    assert fresh.load_value(FLOW, refs["nothing"].key) is None
    pd.testing.assert_frame_equal(fresh.load_value(FLOW, refs["table"].key), values["table"])
    arr = fresh.load_value(FLOW, refs["arr"].key)
    np.testing.assert_array_equal(arr, values["arr"])
    assert arr.flags.writeable
    assert fresh.load_value(FLOW, refs["model"].key).weights == [1.0, 2.0]
    assert fresh.load_value(FLOW, refs["text"].key) == values["text"]
    assert backend.temp_objects() == []


def test_same_value_from_two_tasks_is_stored_once(store, backend):
    arr = np.random.default_rng(1).random(50_000)
    a = store.save_values(FLOW, {"x": arr, "n": 5})
    b = backend.store().save_values(FLOW, {"y": arr.copy(), "m": 5})
    assert a["x"].key == b["y"].key and a["n"].key == b["m"].key
    assert len(blob_keys(store)) == 2
    # a different value is a new blob
    c = store.save_values(FLOW, {"x": arr + 1})
    assert c["x"].key != a["x"].key
    assert len(blob_keys(store)) == 3


def test_an_existing_blob_is_not_rewritten(store, backend):
    key = store.save_values(FLOW, {"x": "payload" * 500})["x"].key
    writes = []
    fresh = backend.store()
    real_put = fresh.storage.put

    def put(key, data, *, if_absent=False):
        wrote = real_put(key, data, if_absent=if_absent)
        writes.append(wrote)
        return wrote

    fresh.storage.put = put
    assert fresh.save_values(FLOW, {"again": "payload" * 500})["again"].key == key
    assert writes == [False]  # one put-if-absent that found the blob there


def test_blobs_are_per_flow(store):
    k1 = store.save_values("FlowA", {"x": 1})["x"].key
    k2 = store.save_values("FlowB", {"x": 1})["x"].key
    assert k1 == k2
    assert store.has_blob("FlowA", k1) and store.has_blob("FlowB", k1)
    assert not store.has_blob("FlowC", k1)


def test_has_blob(store):
    key = store.save_values(FLOW, {"x": [1, 2]})["x"].key
    assert store.has_blob(FLOW, key)
    assert type(store)(store.storage).has_blob(FLOW, key)
    assert not store.has_blob(FLOW, "ab" * 16)


def test_unpicklable_value_names_the_artifact_and_leaves_nothing_behind(store, backend):
    with pytest.raises(UnpicklableArtifact) as e:
        store.save_values(FLOW, {"ok": 1, "conn": threading.Lock()})
    assert "artifact 'conn'" in one_line(e)
    assert e.value.name == "conn"
    assert backend.temp_objects() == []


# --- damaged or missing blobs ----------------------------------------------------------------


def test_truncated_blob_is_corrupt(store, backend):
    key = store.save_values(FLOW, {"x": np.random.default_rng(3).random(10_000)})["x"].key
    blob = store.blob_key(FLOW, key)
    data = bytes(store.storage.get(blob))
    tamper(store, blob, data[: len(data) // 2])
    with pytest.raises(CorruptBlob) as e:
        backend.store().load_value(FLOW, key)
    msg = one_line(e)
    assert blob in msg and "truncated" in msg


def test_blob_with_foreign_content_is_corrupt(store):
    k1 = store.save_values(FLOW, {"x": "one"})["x"].key
    k2 = store.save_values(FLOW, {"x": "two"})["x"].key
    tamper(store, store.blob_key(FLOW, k1), bytes(store.storage.get(store.blob_key(FLOW, k2))))
    with pytest.raises(CorruptBlob):
        type(store)(store.storage).load_value(FLOW, k1)


def test_missing_blob_names_key_and_where(store):
    key = store.save_values(FLOW, {"x": 1})["x"].key
    store.storage.delete(store.blob_key(FLOW, key))
    with pytest.raises(DatastoreError) as e:
        store.load_value(FLOW, key)
    msg = one_line(e)
    assert key in msg and store.url in msg
    assert not isinstance(e.value, CorruptBlob)


def test_blob_of_a_newer_format_is_unsupported(store):
    key = store.save_values(FLOW, {"x": 1})["x"].key
    blob = store.blob_key(FLOW, key)
    data = bytearray(store.storage.get(blob))
    data[4] = FORMAT_VERSION + 1
    tamper(store, blob, bytes(data))
    with pytest.raises(UnsupportedFormat) as e:
        store.load_value(FLOW, key)
    assert "upgrade headwater" in one_line(e)


# --- indexes --------------------------------------------------------------------------------


def make_index(store) -> TaskIndex:
    refs = store.save_values(FLOW, {"a": 1, "b": "two"})
    stack = (SplitFrame(FrameKind.FOREACH, "start", "2", 0, 3, 5, var="xs"),)
    return TaskIndex(refs, stack=stack, attrs={"next": ["end"], "foreach_num_splits": None})


def test_index_round_trip(store, backend):
    index = make_index(store)
    p = attempt()
    assert not store.has_index(p)
    store.write_index(p, index)
    assert store.has_index(p)
    got = backend.store().read_index(p)
    assert got == index
    assert backend.temp_objects() == []
    # rewriting replaces the whole file
    store.write_index(p, TaskIndex({}))
    assert store.read_index(p).artifacts == {}


def test_missing_index_raises_index_not_found(store):
    with pytest.raises(IndexNotFound) as e:
        store.read_index(attempt(task="99"))
    assert f"{FLOW}/1/start/99" in one_line(e)
    with pytest.raises(IndexNotFound):
        store.copy_index(attempt(task="99"), attempt(task="100"))


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"[1, 2]", b'{"version": "x"}', b'{"artifacts": {"a": {"size": 1}}}',
     b'{"artifacts": [1]}', b"\xff\xfe garbage"],
    ids=["broken", "empty", "list", "bad-version", "ref-without-key", "artifacts-list", "binary"],
)  # fmt: skip
def test_garbage_index_is_a_clear_datastore_error(store, content):
    p = attempt()
    store.write_index(p, TaskIndex({}))
    tamper(store, f"{store.attempt_key(p)}/index.json", content)
    with pytest.raises(DatastoreError) as e:
        store.read_index(p)
    assert not isinstance(e.value, (IndexNotFound, UnsupportedFormat))
    msg = one_line(e)
    assert "index.json" in msg and "damaged" in msg


def test_index_of_a_newer_version_is_unsupported(store):
    p = attempt()
    d = TaskIndex({}).to_json()
    d["version"] = INDEX_VERSION + 1
    d["something_new"] = {"x": 1}
    store.write_index(p, TaskIndex({}))
    tamper(store, f"{store.attempt_key(p)}/index.json", json.dumps(d).encode())
    with pytest.raises(UnsupportedFormat) as e:
        store.read_index(p)
    assert "upgrade headwater" in one_line(e)


def test_copy_index_moves_keys_not_bytes(store):
    index = make_index(store)
    src = attempt(run="1")
    dst = AttemptPath(FLOW, "2", "start", "5", 0)
    store.write_index(src, index)
    blobs_before = blob_keys(store)
    store.copy_index(src, dst)
    assert store.read_index(dst) == index
    assert blob_keys(store) == blobs_before
    for ref in index.artifacts.values():
        assert store.load_value(FLOW, ref.key) in (1, "two")


# --- logs ----------------------------------------------------------------------------------


def test_logs(store, backend):
    p = attempt()
    assert store.read_log(p, "stdout") == b""
    assert store.read_log(p, "stderr") == b""
    assert store.log_size(p, "stdout") == 0
    sink = store.open_log(p, "stdout")
    sink.write(b"hello\n")
    sink.write(b"\xffraw")
    sink.close()
    fresh = backend.store()
    assert fresh.read_log(p, "stdout") == b"hello\n\xffraw"
    assert fresh.log_size(p, "stdout") == 10
    assert fresh.read_log_range(p, "stdout", 6, 100) == b"\xffraw"
    assert fresh.read_log(p, "stderr") == b""
    with pytest.raises(DatastoreError) as e:
        store.open_log(p, "stdlog")
    assert "stdout" in one_line(e)
    # a clone shares the logs of its origin
    clone = AttemptPath(FLOW, "2", "start", "9", 0)
    store.copy_logs(p, clone)
    assert fresh.read_log(clone, "stdout") == b"hello\n\xffraw"
    assert fresh.read_log(clone, "stderr") == b""


def test_task_results(store, backend):
    p = attempt()
    assert store.read_result(p) is None
    store.write_result(p, b'{"ok": true}')
    assert backend.store().read_result(p) == b'{"ok": true}'


def test_cards(store, backend):
    p = attempt()
    assert store.list_cards(p) == []
    store.write_card(p, "1-blank.html", "<p>b</p>")
    store.write_card(p, "0-default.html", "<p>déjà</p>")
    fresh = backend.store()
    assert fresh.list_cards(p) == ["0-default.html", "1-blank.html"]
    assert fresh.read_card(p, "0-default.html") == "<p>déjà</p>"
    with pytest.raises(DatastoreError) as e:
        fresh.read_card(p, "2-gone.html")
    one_line(e)
    with pytest.raises(DatastoreError):
        fresh.read_card(p, "../index.json")


def test_code_packages_are_content_addressed_and_checked(store, backend):
    key = store.save_package(FLOW, b"tarball bytes")
    assert store.save_package(FLOW, b"tarball bytes") == key
    assert backend.store().load_package(FLOW, key) == b"tarball bytes"
    tamper(store, f"{FLOW}/packages/{key}.tgz", b"tarball bytez")
    with pytest.raises(CorruptBlob) as e:
        backend.store().load_package(FLOW, key)
    one_line(e)
    with pytest.raises(DatastoreError):
        store.load_package(FLOW, "ab" * 32)


# --- several processes at once ------------------------------------------------------------------

N_PROCS = 4
N_ROUNDS = 5


def shared_values(round_: int) -> dict:
    rng = np.random.default_rng(round_)
    return {"shared_arr": rng.random(20_000), "shared_text": f"round {round_} " * 2000}


def worker(kind: str, tmp_path, wid: int, barrier, out) -> None:
    from datastore_backends import Backend

    store = Backend(kind, tmp_path).store()
    result = {}
    for r in range(N_ROUNDS):
        barrier.wait()
        refs = store.save_values(FLOW, {**shared_values(r), "own": (wid, r, "x" * 3000)})
        p = AttemptPath(FLOW, "1", "step", str(wid), r)
        store.write_index(p, TaskIndex(refs))
        result[r] = {k: v.key for k, v in refs.items()}
    out.put((wid, result))


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork start method"
)
def test_concurrent_saves_from_several_processes(backend):
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(N_PROCS)
    out = ctx.Queue()
    args = (backend.kind, backend.tmp_path)
    procs = [ctx.Process(target=worker, args=(*args, i, barrier, out)) for i in range(N_PROCS)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    store = backend.store()
    for r in range(N_ROUNDS):
        expected = shared_values(r)
        shared_keys = {results[w][r]["shared_arr"] for w in range(N_PROCS)}
        assert len(shared_keys) == 1
        np.testing.assert_array_equal(
            store.load_value(FLOW, shared_keys.pop()), expected["shared_arr"]
        )
        for w in range(N_PROCS):
            assert store.load_value(FLOW, results[w][r]["own"]) == (w, r, "x" * 3000)
            index = store.read_index(AttemptPath(FLOW, "1", "step", str(w), r))
            assert {k: v.key for k, v in index.artifacts.items()} == results[w][r]
    # 2 shared values per round plus one own value per worker and round
    assert len(blob_keys(store)) == N_ROUNDS * (2 + N_PROCS)
    assert backend.temp_objects() == []


def test_read_indexes_reads_several_in_order(store, backend):
    paths = [attempt(task=str(i)) for i in range(12)]
    for i, p in enumerate(paths):
        store.write_index(p, TaskIndex({}, attrs={"i": i}))
    got = backend.store().read_indexes(list(reversed(paths)))
    assert [ix.attrs["i"] for ix in got] == list(reversed(range(12)))
    with pytest.raises(IndexNotFound) as e:
        store.read_indexes([paths[0], attempt(task="missing")])
    assert "missing" in one_line(e)
    assert store.read_indexes([]) == []
