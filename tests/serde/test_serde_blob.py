"""serialize/deserialize: round trips, content keys, compression, zero copy, damaged blobs."""

from __future__ import annotations

import datetime
import pickle
import struct
import sys
import threading
import types

import numpy as np
import pandas as pd
import pytest

from headwater.exceptions import (
    CorruptBlob,
    DatastoreError,
    UnpicklableArtifact,
    UnsupportedFormat,
)
from headwater.serde import blob, compression
from headwater.serde.blob import Serialized, deserialize, read_key, serialize

MB = 1024 * 1024


class Point:
    """A user class defined in the test module."""

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __eq__(self, other):
        return type(other) is Point and (self.x, self.y) == (other.x, other.y)


def blob_bytes(s: Serialized) -> bytearray:
    return bytearray(b"".join(s.chunks))


def roundtrip(value):
    s = serialize(value)
    return deserialize(blob_bytes(s), key=s.key)


def is_compressed(s: Serialized) -> bool:
    return bool(bytes(s.chunks[0])[5] & blob.FLAG_COMPRESSED)


# --- round trips -------------------------------------------------------------------------------

PLAIN_VALUES = [
    0,
    -7,
    2**200,
    3.25,
    float("inf"),
    True,
    None,
    "",
    "héllo wörld ✓",
    b"\x00\x01bytes",
    bytearray(b"abc"),
    [1, "two", 3.0, None],
    (1, (2, (3,))),
    {"a": 1, "b": [1, 2, {"c": None}]},
    {1, 2, 3},
    frozenset({"x"}),
    datetime.datetime(2024, 5, 1, 12, 30),
    Point(1, [2, 3]),
    [Point(0, 0)] * 3,
    "x" * 100_000,
]


@pytest.mark.parametrize("value", PLAIN_VALUES, ids=lambda v: type(v).__name__)
def test_plain_values_round_trip(value):
    assert roundtrip(value) == value


ARRAYS = {
    "float64": np.linspace(0.0, 1.0, 50_000),
    "int32_2d": np.arange(60_000, dtype=np.int32).reshape(300, 200),
    "fortran": np.asfortranarray(np.arange(20_000, dtype=np.float32).reshape(100, 200)),
    "non_contiguous": np.arange(40_000, dtype=np.int64).reshape(200, 200)[::3, 1::2],
    "zero_d": np.array(3.5),
    "empty": np.zeros((0, 4)),
    "bool": np.random.default_rng(0).random(10_000) > 0.5,
    "structured": np.array([(1, 2.0), (3, 4.0)] * 1000, dtype=[("a", "i4"), ("b", "f8")]),
    "object": np.array(["a", None, 3], dtype=object),
    "complex": np.arange(5000) * (1 + 2j),
    "datetime": np.arange("2020-01-01", "2024-01-01", dtype="datetime64[D]"),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_numpy_arrays_round_trip(name):
    a = ARRAYS[name]
    out = roundtrip(a)
    assert type(out) is np.ndarray
    assert out.dtype == a.dtype and out.shape == a.shape
    np.testing.assert_array_equal(out, a)


def test_pandas_dataframe_with_mixed_dtypes_round_trips():
    n = 5000
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "i": np.arange(n),
            "f": rng.random(n),
            "s": [f"row{i}" for i in range(n)],
            "b": rng.random(n) > 0.5,
            "t": pd.date_range("2024-01-01", periods=n, freq="min"),
            "c": pd.Categorical(rng.choice(["x", "y", "z"], n)),
            "n": pd.array([1, None] * (n // 2), dtype="Int64"),
        },
        index=pd.RangeIndex(10, 10 + n),
    )
    out = roundtrip(df)
    pd.testing.assert_frame_equal(out, df)
    series = df["f"].rename("f")
    pd.testing.assert_series_equal(roundtrip(series), series)


def test_serialized_records_size_and_type():
    a = np.arange(100_000, dtype=np.int64)
    s = serialize(a)
    assert s.type == "numpy.ndarray"
    assert s.size >= a.nbytes
    assert serialize(Point(1, 2)).type == f"{__name__}.Point"
    assert serialize(5).type == "builtins.int"
    assert s.nbytes == len(blob_bytes(s))


# --- keys ----------------------------------------------------------------------------------------


def test_same_value_gives_same_key_and_different_values_different_keys():
    a = serialize({"x": [1, 2, 3], "arr": np.arange(10_000)})
    b = serialize({"x": [1, 2, 3], "arr": np.arange(10_000)})
    assert a.key == b.key
    assert len(a.key) == 32 and int(a.key, 16) >= 0
    keys = {
        serialize(v).key
        for v in [1, 2, "1", 1.0, [1], (1,), np.arange(10_000), np.arange(10_001), None]
    }
    assert len(keys) == 9


def test_arrays_with_same_bytes_but_different_shape_or_dtype_get_different_keys():
    a = np.arange(12_000, dtype=np.int64)
    keys = {serialize(a).key, serialize(a.reshape(3000, 4)).key, serialize(a.view(np.float64)).key}
    assert len(keys) == 3


def test_key_does_not_depend_on_compression(monkeypatch):
    value = "abc" * 100_000
    compressed = serialize(value)
    assert is_compressed(compressed)
    monkeypatch.setattr(compression, "MIN_COMPRESS_SIZE", 10**12)
    plain = serialize(value)
    assert not is_compressed(plain)
    assert plain.key == compressed.key
    assert plain.size == compressed.size
    assert read_key(blob_bytes(plain)) == read_key(blob_bytes(compressed)) == plain.key


# --- compression ---------------------------------------------------------------------------------


def test_random_bytes_are_not_compressed():
    data = np.random.default_rng(2).bytes(2 * MB)
    s = serialize(data)
    assert not is_compressed(s)
    assert deserialize(blob_bytes(s)) == data


def test_random_array_is_not_compressed():
    a = np.random.default_rng(3).random(200_000)
    s = serialize(a)
    assert not is_compressed(s)


def test_repetitive_text_is_compressed_and_round_trips():
    text = "the quick brown fox jumps over the lazy dog\n" * 50_000  # ~2 MB, sampled
    s = serialize(text)
    assert is_compressed(s)
    assert s.nbytes < s.size // 10
    assert deserialize(blob_bytes(s)) == text
    small = "spam and eggs " * 1000  # below the sample size: trial output is the frame
    s = serialize(small)
    assert is_compressed(s)
    assert deserialize(bytes(blob_bytes(s))) == small


def test_tiny_values_are_never_compressed():
    s = serialize("a" * 500)
    assert not is_compressed(s)


def test_large_array_data_is_never_compressed():
    # Compressing array data costs more time than it saves disk; it is written as it is.
    s = serialize(np.zeros((1024, 1024)))
    assert not is_compressed(s)


def test_compressible_array_comes_back_writable():
    a = np.zeros((300, 300))
    s = serialize(a)
    assert is_compressed(s)
    out = deserialize(bytes(blob_bytes(s)))
    np.testing.assert_array_equal(out, a)
    assert out.flags.writeable
    out[0, 0] = 1.0


def test_compression_decision_sees_the_incompressible_tail():
    # A compressible head followed by a much larger random part must not be compressed.
    value = ("header " * 5_000, np.random.default_rng(4).bytes(3 * MB))
    s = serialize(value)
    assert not is_compressed(s)
    assert roundtrip(value) == value


# --- zero copy -----------------------------------------------------------------------------------


def test_serialize_references_array_memory_without_copying():
    a = np.random.default_rng(8).random(MB // 8)  # incompressible: stored as is
    s = serialize(a)
    assert not is_compressed(s)
    views = [c for c in s.chunks if isinstance(c, memoryview)]
    assert any(np.shares_memory(np.frombuffer(v, dtype=np.uint8), a) for v in views)


def test_dataframe_columns_are_out_of_band():
    rng = np.random.default_rng(9)
    df = pd.DataFrame({"a": rng.random(100_000), "b": rng.integers(0, 2**62, 100_000)})
    s = serialize(df)
    views = [np.frombuffer(c, dtype=np.uint8) for c in s.chunks if isinstance(c, memoryview)]
    assert any(np.shares_memory(v, df["a"].to_numpy()) for v in views)


def test_deserialized_array_is_a_writable_view_of_a_bytearray():
    a = np.random.default_rng(5).random((300, 300))
    data = blob_bytes(serialize(a))
    out = deserialize(data)
    np.testing.assert_array_equal(out, a)
    backing = np.frombuffer(data, dtype=np.uint8)
    assert np.shares_memory(out, backing)
    assert out.flags.writeable
    assert (out.ctypes.data - backing.ctypes.data) % blob.ALIGN == 0  # buffers are aligned


def test_deserialize_from_bytes_gives_read_only_arrays_without_copy():
    a = np.random.default_rng(6).random(100_000)
    data = bytes(blob_bytes(serialize(a)))
    out = deserialize(memoryview(data))
    np.testing.assert_array_equal(out, a)
    assert not out.flags.writeable
    assert np.shares_memory(out, np.frombuffer(data, dtype=np.uint8))


# --- damaged and foreign blobs -------------------------------------------------------------------


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg and msg
    return msg


def test_bad_magic_is_corrupt():
    with pytest.raises(CorruptBlob) as e:
        deserialize(b"not a blob at all, just some text")
    assert "magic" in one_line(e)
    with pytest.raises(CorruptBlob):
        deserialize(b"")
    with pytest.raises(CorruptBlob):
        deserialize(pickle.dumps(123))


@pytest.mark.parametrize(
    "value", ["tiny", "spam " * 10_000, np.random.default_rng(7).random(20_000)], ids=str
)
def test_truncated_blob_is_corrupt_at_every_cut(value):
    data = bytes(blob_bytes(serialize(value)))
    for cut in {1, 4, 5, 20, 43, 44, len(data) // 2, len(data) - 1}:
        if cut >= len(data):
            continue
        with pytest.raises(CorruptBlob) as e:
            deserialize(data[:cut])
        one_line(e)
    with pytest.raises(CorruptBlob) as e:
        deserialize(data[: len(data) - 1])
    assert "truncated" in one_line(e)


def test_trailing_bytes_are_corrupt():
    data = bytes(blob_bytes(serialize([1, 2, 3])))
    with pytest.raises(CorruptBlob):
        deserialize(data + b"\x00")


@pytest.mark.parametrize("value", ["x" * 100, "spam " * 10_000, np.arange(50_000)], ids=str)
def test_flipped_content_byte_is_detected(value):
    data = blob_bytes(serialize(value))
    data[-3] ^= 0xFF
    with pytest.raises(CorruptBlob) as e:
        deserialize(data)
    one_line(e)


def test_newer_format_version_is_unsupported():
    data = blob_bytes(serialize({"a": 1}))
    data[4] = blob.FORMAT_VERSION + 1
    with pytest.raises(UnsupportedFormat) as e:
        deserialize(data)
    assert "upgrade headwater" in one_line(e)


def test_unknown_flags_are_corrupt():
    data = blob_bytes(serialize({"a": 1}))
    data[5] |= 0x80
    with pytest.raises(CorruptBlob):
        deserialize(data)


def test_blob_under_the_wrong_key_is_corrupt():
    s = serialize("one")
    other = serialize("two").key
    with pytest.raises(CorruptBlob) as e:
        deserialize(blob_bytes(s), key=other)
    assert other in one_line(e)


def test_header_lengths_that_disagree_with_the_body_are_corrupt():
    data = blob_bytes(serialize(np.arange(10_000)))
    pickle_len = struct.unpack_from("<Q", data, 12)[0]
    struct.pack_into("<Q", data, 12, pickle_len + 1)
    with pytest.raises(CorruptBlob):
        deserialize(data)


# --- errors users cause ----------------------------------------------------------------------


def test_unpicklable_value_names_the_artifact():
    with pytest.raises(UnpicklableArtifact) as e:
        serialize({"lock": threading.Lock()}, name="model")
    msg = one_line(e)
    assert msg.startswith("artifact 'model' could not be pickled (TypeError:")
    assert "_thread.lock" in msg
    assert "del self.model" in msg
    assert e.value.name == "model"


def test_unpicklable_value_without_a_name_names_its_type():
    def local():
        pass

    with pytest.raises(UnpicklableArtifact) as e:
        serialize(local)
    assert "builtins.function" in one_line(e)


def test_value_whose_class_cannot_be_imported_gives_a_clear_error():
    mod = types.ModuleType("hw_vanishing_module")
    exec("class Thing:\n    pass\n", mod.__dict__)
    sys.modules[mod.__name__] = mod
    try:
        data = blob_bytes(serialize(mod.Thing()))
    finally:
        del sys.modules[mod.__name__]
    with pytest.raises(DatastoreError) as e:
        deserialize(data)
    assert not isinstance(e.value, CorruptBlob)
    assert "hw_vanishing_module" in one_line(e)
