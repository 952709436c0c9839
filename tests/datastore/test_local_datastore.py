"""LocalDatastore: layout, dedup, atomic writes, indexes, logs, damaged files, concurrency."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading

import numpy as np
import pandas as pd
import pytest

from headwater.core.ids import AttemptPath
from headwater.datastore import atomic_file
from headwater.datastore.local import LocalDatastore
from headwater.datastore.records import INDEX_VERSION, ArtifactRef, TaskIndex
from headwater.exceptions import (
    CorruptBlob,
    DatastoreError,
    IndexNotFound,
    UnpicklableArtifact,
    UnsupportedFormat,
)

FLOW = "HelloFlow"


class Model:
    def __init__(self, weights):
        self.weights = weights


def attempt(run="1", step="start", task="2", n=0) -> AttemptPath:
    return AttemptPath(FLOW, run, step, task, n)


def all_files(root) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
    )


def blob_files(root) -> list[str]:
    return [f for f in all_files(root) if f.split(os.sep)[1:2] == ["blobs"]]


def temp_files(root) -> list[str]:
    return [f for f in all_files(root) if f.endswith(".tmp")]


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


@pytest.fixture
def store(tmp_path):
    return LocalDatastore(tmp_path / "root")


# --- construction and paths --------------------------------------------------------------------


def test_constructor_does_no_io_and_makes_root_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = LocalDatastore("some/where")
    assert s.root == tmp_path / "some" / "where"
    assert s.root.is_absolute()
    assert not (tmp_path / "some").exists()


def test_layout_follows_the_design(store):
    refs = store.save_values(FLOW, {"x": 42})
    key = refs["x"].key
    assert store.blob_path(FLOW, key) == store.root / FLOW / "blobs" / key[:2] / key
    assert store.blob_path(FLOW, key).is_file()
    p = attempt(run="7", step="train", task="13", n=2)
    assert store.attempt_dir(p) == store.root / FLOW / "7" / "train" / "13" / "2"
    assert store.log_path(p, "stdout") == store.attempt_dir(p) / "stdout"
    assert store.log_path(p, "stderr") == store.attempt_dir(p) / "stderr"
    assert not store.attempt_dir(p).exists()  # paths are computed, not created


@pytest.mark.parametrize("bad", ["..", ".", "", "a/b"])
def test_path_components_that_escape_the_root_are_rejected(store, bad):
    with pytest.raises(DatastoreError) as e:
        store.attempt_dir(attempt(run=bad))
    one_line(e)
    with pytest.raises(DatastoreError):
        store.save_values(bad, {"x": 1})


def test_malformed_key_is_rejected(store):
    with pytest.raises(DatastoreError):
        store.load_value(FLOW, "../../etc/passwd")
    with pytest.raises(DatastoreError):
        store.blob_path(FLOW, "")


# --- values ----------------------------------------------------------------------------------


def test_save_and_load_round_trip(store):
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

    fresh = LocalDatastore(store.root)  # another process reading: no shared state
    assert fresh.load_value(FLOW, refs["alpha"].key) == 1
    assert fresh.load_value(FLOW, refs["name"].key) == "héllo"
    assert fresh.load_value(FLOW, refs["nothing"].key) is None
    pd.testing.assert_frame_equal(fresh.load_value(FLOW, refs["table"].key), values["table"])
    arr = fresh.load_value(FLOW, refs["arr"].key)
    np.testing.assert_array_equal(arr, values["arr"])
    assert arr.flags.writeable
    assert fresh.load_value(FLOW, refs["model"].key).weights == [1.0, 2.0]
    assert fresh.load_value(FLOW, refs["text"].key) == values["text"]
    assert temp_files(store.root) == []


def test_same_value_from_two_tasks_is_stored_once(store, tmp_path):
    arr = np.random.default_rng(1).random(50_000)
    a = store.save_values(FLOW, {"x": arr, "n": 5})
    b = LocalDatastore(store.root).save_values(FLOW, {"y": arr.copy(), "m": 5})
    assert a["x"].key == b["y"].key and a["n"].key == b["m"].key
    assert len(blob_files(store.root)) == 2
    # a different value is a new blob
    c = store.save_values(FLOW, {"x": arr + 1})
    assert c["x"].key != a["x"].key
    assert len(blob_files(store.root)) == 3


def test_an_existing_blob_is_not_rewritten(store):
    key = store.save_values(FLOW, {"x": "payload" * 500})["x"].key
    path = store.blob_path(FLOW, key)
    before = path.stat()
    LocalDatastore(store.root).save_values(FLOW, {"again": "payload" * 500})
    after = path.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_blobs_are_per_flow(store):
    k1 = store.save_values("FlowA", {"x": 1})["x"].key
    k2 = store.save_values("FlowB", {"x": 1})["x"].key
    assert k1 == k2
    assert store.has_blob("FlowA", k1) and store.has_blob("FlowB", k1)
    assert not store.has_blob("FlowC", k1)


def test_has_blob(store):
    key = store.save_values(FLOW, {"x": [1, 2]})["x"].key
    assert store.has_blob(FLOW, key)
    assert LocalDatastore(store.root).has_blob(FLOW, key)
    assert not store.has_blob(FLOW, "ab" * 16)


def test_unpicklable_value_names_the_artifact_and_leaves_nothing_behind(store):
    with pytest.raises(UnpicklableArtifact) as e:
        store.save_values(FLOW, {"ok": 1, "conn": threading.Lock()})
    assert "artifact 'conn'" in one_line(e)
    assert e.value.name == "conn"
    assert temp_files(store.root) == []


def test_durable_mode_writes_the_same_files(tmp_path):
    s = LocalDatastore(tmp_path / "root", durable=True)
    refs = s.save_values(FLOW, {"x": np.random.default_rng(2).random(1000)})
    s.write_index(attempt(), TaskIndex(refs))
    assert s.read_index(attempt()).artifacts == refs
    assert temp_files(s.root) == []


# --- damaged or missing blobs ----------------------------------------------------------------


def test_truncated_blob_on_disk_is_corrupt(store):
    key = store.save_values(FLOW, {"x": np.random.default_rng(3).random(10_000)})["x"].key
    path = store.blob_path(FLOW, key)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptBlob) as e:
        LocalDatastore(store.root).load_value(FLOW, key)
    msg = one_line(e)
    assert str(path) in msg and "truncated" in msg


def test_blob_with_foreign_content_is_corrupt(store):
    k1 = store.save_values(FLOW, {"x": "one"})["x"].key
    k2 = store.save_values(FLOW, {"x": "two"})["x"].key
    store.blob_path(FLOW, k1).write_bytes(store.blob_path(FLOW, k2).read_bytes())
    with pytest.raises(CorruptBlob):
        store.load_value(FLOW, k1)


def test_missing_blob_names_key_and_path(store):
    key = store.save_values(FLOW, {"x": 1})["x"].key
    path = store.blob_path(FLOW, key)
    path.unlink()
    with pytest.raises(DatastoreError) as e:
        store.load_value(FLOW, key)
    msg = one_line(e)
    assert key in msg and str(path) in msg
    assert not isinstance(e.value, CorruptBlob)


def test_blob_of_a_newer_format_is_unsupported(store):
    key = store.save_values(FLOW, {"x": 1})["x"].key
    path = store.blob_path(FLOW, key)
    data = bytearray(path.read_bytes())
    data[4] += 1
    path.write_bytes(bytes(data))
    with pytest.raises(UnsupportedFormat) as e:
        store.load_value(FLOW, key)
    assert "upgrade headwater" in one_line(e)


# --- indexes --------------------------------------------------------------------------------


def make_index(store) -> TaskIndex:
    refs = store.save_values(FLOW, {"a": 1, "b": "two"})
    stack = ({"kind": "foreach", "step": "start", "task": "2", "attempt": 0, "var": "xs",
              "index": 3, "num_splits": 5},)  # fmt: skip
    return TaskIndex(refs, stack=stack, attrs={"next": ["end"], "foreach_num_splits": None})


def test_index_round_trip(store):
    index = make_index(store)
    p = attempt()
    assert not store.has_index(p)
    store.write_index(p, index)
    assert store.has_index(p)
    got = LocalDatastore(store.root).read_index(p)
    assert got == index
    assert (store.attempt_dir(p) / "index.json").is_file()
    assert temp_files(store.root) == []
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
    (store.attempt_dir(p) / "index.json").write_bytes(content)
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
    (store.attempt_dir(p) / "index.json").write_text(json.dumps(d))
    with pytest.raises(UnsupportedFormat) as e:
        store.read_index(p)
    assert "upgrade headwater" in one_line(e)


def test_copy_index_moves_keys_not_bytes(store):
    index = make_index(store)
    src = attempt(run="1")
    dst = AttemptPath(FLOW, "2", "start", "5", 0)
    store.write_index(src, index)
    blobs_before = blob_files(store.root)
    store.copy_index(src, dst)
    assert store.read_index(dst) == index
    assert blob_files(store.root) == blobs_before
    for ref in index.artifacts.values():
        assert store.load_value(FLOW, ref.key) in (1, "two")


# --- logs ----------------------------------------------------------------------------------


def test_logs(store):
    p = attempt()
    assert store.read_log(p, "stdout") == b""
    assert store.read_log(p, "stderr") == b""
    path = store.log_path(p, "stdout")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"hello\n\xffraw")
    assert store.read_log(p, "stdout") == b"hello\n\xffraw"
    with pytest.raises(DatastoreError) as e:
        store.log_path(p, "stdlog")
    assert "stdout" in one_line(e)


# --- atomic writes ----------------------------------------------------------------------------


def test_failed_write_leaves_no_blob_and_no_temp_file(store, monkeypatch):
    def broken(fd, chunks):
        os.write(fd, b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_file, "write_chunks", broken)
    with pytest.raises(DatastoreError) as e:
        store.save_values(FLOW, {"x": "value" * 1000})
    assert "No space left" in one_line(e)
    assert blob_files(store.root) == []
    assert temp_files(store.root) == []
    monkeypatch.undo()
    key = store.save_values(FLOW, {"x": "value" * 1000})["x"].key
    assert store.load_value(FLOW, key) == "value" * 1000


def test_short_writes_are_completed(store, monkeypatch):
    real_writev = os.writev

    def dribble(fd, buffers):  # the kernel may write less than asked
        first = memoryview(buffers[0]).cast("B")
        return real_writev(fd, [first[:7]])

    monkeypatch.setattr(os, "writev", dribble)
    value = np.random.default_rng(4).random(3000)
    key = store.save_values(FLOW, {"x": value})["x"].key
    monkeypatch.undo()
    np.testing.assert_array_equal(LocalDatastore(store.root).load_value(FLOW, key), value)


# --- several processes at once ------------------------------------------------------------------

N_PROCS = 4
N_ROUNDS = 5


def shared_values(round_: int) -> dict:
    rng = np.random.default_rng(round_)
    return {"shared_arr": rng.random(20_000), "shared_text": f"round {round_} " * 2000}


def worker(root: str, wid: int, barrier, out) -> None:
    store = LocalDatastore(root)
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
def test_concurrent_saves_from_several_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    root = str(tmp_path / "root")
    barrier = ctx.Barrier(N_PROCS)
    out = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(root, i, barrier, out)) for i in range(N_PROCS)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    store = LocalDatastore(root)
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
    assert len(blob_files(root)) == N_ROUNDS * (2 + N_PROCS)
    assert temp_files(root) == []


def test_large_array_loads_mapped_writable_and_private(tmp_path):
    ds = LocalDatastore(tmp_path)
    a = np.arange(1 << 20, dtype=np.float64)  # 8 MB: memory-mapped on load
    ref = ds.save_values("F", {"a": a})["a"]
    out = ds.load_value("F", ref.key)
    np.testing.assert_array_equal(out, a)
    out[0] = -1.0  # writable, and the change stays in this process's copy
    again = ds.load_value("F", ref.key)
    assert again[0] == 0.0
