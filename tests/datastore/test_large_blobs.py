"""Large array blobs: written while hashed, and told unchanged after loading without a hash."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd
import pytest
from datastore_backends import blob_file, local_store

from headwater.datastore import atomic_file
from headwater.exceptions import CorruptBlob, DatastoreError
from headwater.serde.blob import STREAM_MIN, Serialized, Unkeyed, serialize, serialize_unkeyed

FLOW = "BigFlow"
BIG = STREAM_MIN // 8 + 1024  # float64 elements: just over the streaming threshold


def files(root) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
    )


@pytest.fixture
def big() -> np.ndarray:
    return np.arange(BIG, dtype=np.float64)


def test_only_large_out_of_band_values_are_left_unkeyed(big):
    assert isinstance(serialize_unkeyed(big), Unkeyed)
    assert isinstance(serialize_unkeyed(big[:1000]), Serialized)
    assert isinstance(serialize_unkeyed(list(range(10_000))), Serialized)


def test_streamed_blob_has_the_key_and_bytes_of_a_hashed_one(tmp_path, big):
    ds = local_store(tmp_path)
    ref = ds.save_values(FLOW, {"a": big})["a"]
    expected = serialize(big)
    assert ref.key == expected.key
    assert ref.size == expected.size
    with open(blob_file(ds, FLOW, ref.key), "rb") as f:
        assert f.read() == b"".join(bytes(c) for c in expected.chunks)
    np.testing.assert_array_equal(local_store(tmp_path).load_value(FLOW, ref.key), big)
    assert not [f for f in files(tmp_path) if f.endswith(".tmp")]


def test_streamed_save_of_stored_content_keeps_one_blob(tmp_path, big):
    ds = local_store(tmp_path)
    first = ds.save_values(FLOW, {"a": big})["a"]
    before = files(tmp_path)
    # A new object (new datastore: nothing cached) with the same content.
    second = local_store(tmp_path).save_values(FLOW, {"b": big.copy()})["b"]
    assert second.key == first.key
    assert files(tmp_path) == before


def test_streamed_save_failure_leaves_no_file_and_a_clear_error(tmp_path, big, monkeypatch):
    def fail(fd, chunks):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_file, "write_chunks", fail)
    ds = local_store(tmp_path)
    with pytest.raises(DatastoreError, match="could not store artifact 'a'.*free space") as e:
        ds.save_values(FLOW, {"a": big})
    assert "\n" not in str(e.value)
    assert [f for f in files(tmp_path) if not f.endswith("/")] == []


def test_big_file_written_with_its_page_cache_prefilled_holds_exactly_its_bytes(tmp_path):
    # Above the preallocation size, a second thread fills the page cache with zeroed pages
    # ahead of the writes: every byte must still be the written one, and the thread be gone.
    import threading

    rng = np.random.default_rng(7)
    size = atomic_file._PREALLOCATE_MIN + 3 * atomic_file._PREFILL_STEP // 2 + 12345
    data = rng.integers(1, 256, size, dtype=np.uint8)  # no zero byte anywhere
    cuts = [0, 5, 1 << 20, 40 << 20, size - 7, size]
    chunks = [memoryview(data[a:b]) for a, b in itertools.pairwise(cuts)]
    target = tmp_path / "big.bin"
    atomic_file.write_atomic(str(target), chunks)
    assert target.stat().st_size == size
    with open(target, "rb") as f:
        assert np.array_equal(np.frombuffer(f.read(), dtype=np.uint8), data)
    assert not [t for t in threading.enumerate() if t.name == "headwater-prefill"]


def test_write_then_name_drops_the_file_when_told(tmp_path):
    target = tmp_path / "sub" / "named"
    assert atomic_file.write_then_name(str(tmp_path), [b"abc"], lambda fd: None) is None
    assert files(tmp_path) == []

    def name(fd):
        os.pwrite(fd, b"X", 0)
        return str(target)

    assert atomic_file.write_then_name(str(tmp_path), [b"abc"], name) == str(target)
    assert target.read_bytes() == b"Xbc"
    assert files(tmp_path) == ["sub/named"]


def test_damaged_streamed_blob_is_still_caught_on_load(tmp_path, big):
    ds = local_store(tmp_path)
    key = ds.save_values(FLOW, {"a": big})["a"].key
    path = blob_file(ds, FLOW, key)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) - 8)
        f.write(b"\xff" * 8)
    with pytest.raises(CorruptBlob, match="does not match its checksum"):
        local_store(tmp_path).load_value(FLOW, key)


# --- unchanged since load ------------------------------------------------------------------


@pytest.fixture
def stored(tmp_path, big):
    ds = local_store(tmp_path)
    return tmp_path, ds.save_values(FLOW, {"a": big})["a"].key


def test_loaded_array_left_alone_is_unchanged(stored):
    root, key = stored
    ds = local_store(root)
    value = ds.load_value(FLOW, key, track=True)
    assert ds.unchanged_since_load(key, value)
    assert value.sum() > 0  # reading every page changes nothing
    assert ds.unchanged_since_load(key, value)


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.__setitem__(12345, -1.0),  # one element, one page
        lambda a: a.__setitem__(slice(None), 0.0),  # every element
        lambda a: setattr(a, "shape", (a.size // 2, 2)),  # reshaped in place: same bytes
    ],
)
def test_loaded_array_changed_in_place_is_changed(stored, change):
    root, key = stored
    ds = local_store(root)
    value = ds.load_value(FLOW, key, track=True)
    change(value)
    assert not ds.unchanged_since_load(key, value)


def test_only_tracked_loads_of_that_blob_count(stored):
    root, key = stored
    ds = local_store(root)
    untracked = ds.load_value(FLOW, key)
    assert not ds.unchanged_since_load(key, untracked)
    tracked = ds.load_value(FLOW, key, track=True)
    assert ds.unchanged_since_load(key, tracked)
    assert not ds.unchanged_since_load(key, tracked[:10])  # a view is another value
    assert not ds.unchanged_since_load(key, tracked.copy())  # same bytes, other memory
    assert not ds.unchanged_since_load("0" * 32, tracked)  # another key


def test_loaded_dataframe_unchanged_until_written(tmp_path):
    n = 1 << 20
    df = pd.DataFrame({"x": np.arange(n, dtype=np.float64), "y": np.ones(n)})
    key = local_store(tmp_path).save_values(FLOW, {"df": df})["df"].key
    ds = local_store(tmp_path)
    value = ds.load_value(FLOW, key, track=True)
    assert ds.unchanged_since_load(key, value)
    value.loc[3, "y"] = 7.0
    assert not ds.unchanged_since_load(key, value)
