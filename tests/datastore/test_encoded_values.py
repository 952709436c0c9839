"""Values another codec encoded (an R step's data frames and models) in the datastore: stored
as they came, recorded with their codec, read back decoded or as they were stored."""

from __future__ import annotations

import pandas as pd
import pytest

from headwater.core.ids import AttemptPath
from headwater.datastore.records import ArtifactRef, TaskIndex
from headwater.serde.codecs import encode
from headwater.serde.robject import RObject

FLOW = "RFlow"


@pytest.fixture
def store(backend):
    return backend.store()


def frame_pieces():
    return encode("neutral", pd.DataFrame({"a": [1, 2], "s": ["x", None]}))


def test_an_encoded_value_is_stored_with_its_codec_and_read_decoded(store):
    ref = store.save_encoded(FLOW, "df", "neutral", frame_pieces(), "R.data.frame")
    assert (ref.codec, ref.type) == ("neutral", "R.data.frame")
    frame = store.load_value(FLOW, ref.key)
    assert frame["a"].tolist() == [1, 2] and frame["s"].isna().tolist() == [False, True]
    codec, payload = store.load_payload(FLOW, ref.key)
    assert codec == "neutral" and bytes(payload) == b"".join(bytes(p) for p in frame_pieces())
    again = store.save_encoded(FLOW, "copy", "neutral", frame_pieces(), "R.data.frame")
    assert again.key == ref.key  # stored once


def test_an_rds_value_reads_as_an_r_object(store):
    ref = store.save_encoded(FLOW, "model", "rds", [b"X\n\x00\x00"], "R.lm")
    assert store.load_value(FLOW, ref.key) == RObject(b"X\n\x00\x00")


def test_the_index_records_the_codec_and_old_indexes_read_as_pickle(store):
    path = AttemptPath(FLOW, "1", "start", "t1", 0)
    ref = store.save_encoded(FLOW, "df", "neutral", frame_pieces(), "R.data.frame")
    pickled = store.save_values(FLOW, {"n": 1})["n"]
    store.write_index(path, TaskIndex(artifacts={"df": ref, "n": pickled}))
    back = store.read_index(path)
    assert back.artifacts["df"].codec == "neutral" and back.artifacts["n"].codec == "pickle"
    assert "codec" not in pickled.to_json()  # indexes of pickled values are as before
    assert ArtifactRef.from_json({"key": "ab" * 16, "size": 3, "type": "int"}).codec == "pickle"


def test_an_r_value_read_in_python_and_left_alone_keeps_its_blob(store):
    ref = store.save_encoded(FLOW, "df", "neutral", frame_pieces(), "R.data.frame")
    frame = store.load_value(FLOW, ref.key, track=True)
    assert store.unchanged_since_load(ref.key, frame)
    frame.loc[0, "a"] = 99
    assert not store.unchanged_since_load(ref.key, frame)
