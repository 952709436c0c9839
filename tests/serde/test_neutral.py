"""The neutral codec in Python: R data as numpy/pandas values and back, and its blobs.

The R side of the same codec, and the round trip R -> Python -> R, are tested by the R package's
tests (tests/r); here Python values go to bytes and back, and bytes made by hand check the
layout R writes.
"""

from __future__ import annotations

import datetime
import json
import struct

import numpy as np
import pandas as pd
import pytest

from headwater.core.caught import CaughtException
from headwater.exceptions import CorruptBlob, UnsupportedFormat
from headwater.serde import blob
from headwater.serde.codecs import NUMBERS, decode, encode
from headwater.serde.neutral import NotNeutral
from headwater.serde.neutral import decode as neutral_decode
from headwater.serde.neutral import encode as neutral_encode
from headwater.serde.neutral_format import NA_REAL_BITS
from headwater.serde.robject import RObject


def round_trip(value):
    return neutral_decode(b"".join(bytes(p) for p in neutral_encode(value)))


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 2.5, "text", "été", b"\x00\xff", [1, "a", None], {"a": 1, "b": [2.0]}],
    ids=repr,
)
def test_plain_values_come_back_equal(value):
    assert round_trip(value) == value


def test_python_ints_beyond_32_bits_become_doubles():
    assert round_trip(2**40) == float(2**40)
    assert isinstance(round_trip(5), int)


def test_numpy_arrays_keep_type_shape_and_missing_values():
    ints = round_trip(np.array([1, 2, 3], dtype=np.int32))
    assert ints.dtype == np.int32 and ints.tolist() == [1, 2, 3]
    masked = round_trip(np.ma.MaskedArray(np.array([1, 2], dtype=np.int32), mask=[False, True]))
    assert isinstance(masked, np.ma.MaskedArray) and masked.mask.tolist() == [False, True]
    matrix = round_trip(np.arange(6.0).reshape(2, 3))
    assert matrix.shape == (2, 3) and matrix.tolist() == [[0, 1, 2], [3, 4, 5]]
    text = round_trip(np.array(["a", None], dtype=object))
    assert text.tolist() == ["a", None]
    days = round_trip(np.array(["2020-01-01", "NaT"], dtype="datetime64[D]"))
    assert days.dtype == np.dtype("datetime64[D]") and np.isnat(days[1])


def test_an_r_na_double_stays_na_and_nan_stays_nan():
    values = np.array([1.0, np.nan, 0.0])
    values.view(np.uint64)[2] = NA_REAL_BITS
    back = round_trip(values)
    bits = back.view(np.uint64)
    assert bits[2] == NA_REAL_BITS and bits[1] != NA_REAL_BITS and np.isnan(back[1])


def test_a_data_frame_gets_nullable_dtypes_and_back():
    frame = pd.DataFrame(
        {
            "i": pd.array([1, None, 3], dtype="Int32"),
            "f": pd.array([0.5, None, 2.0], dtype="Float64"),
            "b": pd.array([True, None, False], dtype="boolean"),
            "s": pd.array(["x", None, "z"], dtype="string"),
            "c": pd.Categorical(["u", "v", None], categories=["v", "u"], ordered=True),
            "d": [datetime.date(2020, 1, 1), None, datetime.date(2021, 2, 3)],
            "t": pd.to_datetime(["2020-01-01", None, "2020-01-03"]).tz_localize("Europe/Paris"),
        }
    )
    back = round_trip(frame)
    assert {c: str(t) for c, t in back.dtypes.items()} == {
        "i": "Int32",
        "f": "Float64",
        "b": "boolean",
        "s": "string",
        "c": "category",
        "d": "object",
        "t": "datetime64[ns, Europe/Paris]",
    }
    pd.testing.assert_frame_equal(back, round_trip(back))
    assert back["c"].cat.ordered and list(back["c"].cat.categories) == ["v", "u"]
    assert back["i"].isna().tolist() == [False, True, False]


def test_pandas_defaults_map_to_r_types():
    frame = pd.DataFrame({"n": [1, 2], "x": [0.5, np.nan], "s": ["a", "b"]})
    back = round_trip(frame)
    assert str(back.dtypes["n"]) == "Int32"  # int64 that fits: an R integer
    assert back["x"].isna().tolist() == [False, True]  # NaN in pandas is missing: NA in R
    assert str(back.dtypes["s"]) == "string"


def test_row_names_and_series_names():
    frame = pd.DataFrame({"a": [1, 2]}, index=["r1", "r2"])
    assert list(round_trip(frame).index) == ["r1", "r2"]
    series = pd.Series([1.0, 2.0], index=["a", "b"])
    back = round_trip(series)
    assert back.index.tolist() == ["a", "b"] and back.tolist() == [1.0, 2.0]


def test_what_r_cannot_hold_is_refused():
    with pytest.raises(NotNeutral):
        neutral_encode(object())
    with pytest.raises(NotNeutral):
        neutral_encode({1: "a"})
    with pytest.raises(NotNeutral):
        neutral_encode("a\0b")


def test_a_caught_exception_reaches_r_as_a_list():
    caught = CaughtException("RError", "no data", "tb")
    assert round_trip(caught)["message"] == "no data"


def test_r_objects_are_kept_as_rds_bytes():
    obj = RObject(b"X\n\x00\x00\x00\x03", ("lm",))
    assert round_trip({"m": obj})["m"] == obj
    assert "lm" in repr(obj)


def _handmade(header: dict, data: bytes) -> bytes:
    """A neutral payload as R writes it."""
    text = json.dumps(header).encode()
    head = b"HWNC" + bytes([1, 0, 0, 0]) + struct.pack("<I", len(text)) + text
    head += bytes(-len(head) % 8)
    return head + data


def test_bytes_written_the_way_r_writes_them_are_read():
    codes = struct.pack("<3i", 2, 1, -(2**31)) + bytes(4)
    levels = b"lo\0hi\0"
    payload = _handmade(
        {
            "t": "fct",
            "n": 3,
            "b": [0, 12],
            "ordered": False,
            "levels": {"t": "chr", "n": 2, "b": [16, 6]},
        },
        codes + levels,
    )
    value = neutral_decode(payload)
    assert value.tolist()[:2] == ["hi", "lo"] and pd.isna(value[2])
    with pytest.raises(UnsupportedFormat):
        neutral_decode(payload[:4] + b"\x02" + payload[5:])
    with pytest.raises(CorruptBlob):
        neutral_decode(b"nope" + payload[4:])


def test_encoded_blobs_record_their_codec_and_are_read_by_deserialize():
    pieces = encode("neutral", pd.DataFrame({"a": [1, 2]}))
    s = blob.serialize_payload(pieces, NUMBERS["neutral"], "R.data.frame", stream_min=None)
    data = b"".join(bytes(c) for c in s.chunks)
    assert data[4] == 2  # format version 2: an encoded value
    assert blob.codec_of(data) == NUMBERS["neutral"]
    frame = blob.deserialize(data, key=s.key)
    assert frame["a"].tolist() == [1, 2]
    number, payload = blob.read_payload(data)
    assert number == 1 and bytes(payload) == b"".join(bytes(p) for p in pieces)
    # the same bytes under another codec are another blob
    other = blob.serialize_payload(pieces, NUMBERS["rds"], "R.x", stream_min=None)
    assert other.key != s.key
    assert decode(NUMBERS["rds"], b"xyz") == RObject(b"xyz")
    # pickled values keep format 1 and their keys
    assert bytes(b"".join(bytes(c) for c in blob.serialize(1).chunks))[4] == 1


def test_a_value_left_alone_is_the_same_as_its_payload_and_a_changed_one_is_not():
    from headwater.serde.neutral_same import same_as_decoded

    frame = pd.DataFrame({"x": pd.array([1.5, None], dtype="Float64"), "s": ["a", None]})
    payload = b"".join(bytes(p) for p in neutral_encode({"df": frame, "n": 3, "when": [1.0]}))
    value = neutral_decode(payload)
    assert same_as_decoded(value, payload)
    value["df"].loc[0, "x"] = 2.0
    assert not same_as_decoded(value, payload)
    value = neutral_decode(payload)
    value["when"].append(2.0)
    assert not same_as_decoded(value, payload)
    na = np.array([np.nan])
    na.view(np.uint64)[0] = NA_REAL_BITS
    na_payload = b"".join(bytes(p) for p in neutral_encode(na))
    assert not same_as_decoded(np.array([np.nan]), na_payload)  # NaN is not NA
