"""LocalStorage specifics: files on disk, no work in the constructor, durable mode, failed
and short writes, memory-mapped loads (the contract itself is test_storage_contract.py)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from datastore_backends import all_files, attempt_file, blob_file, local_store

from headwater.core.ids import AttemptPath
from headwater.datastore import atomic_file
from headwater.datastore.local_storage import LocalStorage
from headwater.datastore.records import TaskIndex
from headwater.exceptions import DatastoreError

FLOW = "HelloFlow"


def temp_files(root) -> list[str]:
    return [f for f in all_files(root) if f.endswith(".tmp")]


def blob_files(root) -> list[str]:
    return [f for f in all_files(root) if f.split(os.sep)[1:2] == ["blobs"]]


@pytest.fixture
def store(tmp_path):
    return local_store(tmp_path / "root")


def test_constructor_does_no_io_and_makes_root_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = LocalStorage("some/where")
    assert s.root == str(tmp_path / "some" / "where")
    assert s.url == s.root and os.path.isabs(s.root)
    assert not (tmp_path / "some").exists()


def test_files_follow_the_key_layout(store, tmp_path):
    key = store.save_values(FLOW, {"x": 42})["x"].key
    root = tmp_path / "root"
    assert blob_file(store, FLOW, key) == str(root / FLOW / "blobs" / key[:2] / key)
    assert os.path.isfile(blob_file(store, FLOW, key))
    p = AttemptPath(FLOW, "7", "train", "13", 2)
    store.write_index(p, TaskIndex({}))
    assert attempt_file(store, p, "index.json") == str(root / FLOW / "7/train/13/2/index.json")
    assert os.path.isfile(attempt_file(store, p, "index.json"))


def test_an_existing_blob_file_is_not_rewritten(store):
    key = store.save_values(FLOW, {"x": "payload" * 500})["x"].key
    before = os.stat(blob_file(store, FLOW, key))
    local_store(store.storage.root).save_values(FLOW, {"again": "payload" * 500})
    after = os.stat(blob_file(store, FLOW, key))
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_copy_is_a_hard_link(tmp_path):
    s = LocalStorage(tmp_path)
    s.put("F/a", [b"log"])
    assert s.copy("F/a", "G/b")
    assert os.stat(s.path("F/a")).st_ino == os.stat(s.path("G/b")).st_ino


def test_durable_mode_writes_the_same_files(tmp_path):
    s = local_store(tmp_path / "root", durable=True)
    refs = s.save_values(FLOW, {"x": np.random.default_rng(2).random(1000)})
    p = AttemptPath(FLOW, "1", "start", "2", 0)
    s.write_index(p, TaskIndex(refs))
    assert s.read_index(p).artifacts == refs
    assert temp_files(tmp_path / "root") == []


def test_failed_write_leaves_no_blob_and_no_temp_file(store, monkeypatch, tmp_path):
    def broken(fd, chunks):
        os.write(fd, b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_file, "write_chunks", broken)
    with pytest.raises(DatastoreError) as e:
        store.save_values(FLOW, {"x": "value" * 1000})
    msg = str(e.value)
    assert "No space left" in msg and "\n" not in msg
    assert blob_files(tmp_path / "root") == []
    assert temp_files(tmp_path / "root") == []
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
    np.testing.assert_array_equal(local_store(store.storage.root).load_value(FLOW, key), value)


def test_large_array_loads_mapped_writable_and_private(tmp_path):
    ds = local_store(tmp_path)
    a = np.arange(1 << 20, dtype=np.float64)  # 8 MB: memory-mapped on load
    ref = ds.save_values("F", {"a": a})["a"]
    out = ds.load_value("F", ref.key)
    np.testing.assert_array_equal(out, a)
    out[0] = -1.0  # writable, and the change stays in this process's copy
    again = ds.load_value("F", ref.key)
    assert again[0] == 0.0


def test_a_log_is_readable_while_it_is_written(tmp_path):
    s = LocalStorage(tmp_path)
    sink = s.appender("F/1/s/1/0/stdout")
    sink.write(b"first\n")
    assert bytes(s.get("F/1/s/1/0/stdout")) == b"first\n"  # no flush needed: live logs
    sink.close()
