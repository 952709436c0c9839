"""A task attempt's artifact digest (headwater.datastore.digest): its index and small blobs."""

from __future__ import annotations

from headwater.datastore.digest import INLINE_MAX, INLINE_TOTAL, decode_digest, encode_digest
from headwater.datastore.records import ArtifactRef, TaskIndex


def _index(**refs: str) -> TaskIndex:
    return TaskIndex(
        artifacts={
            name: ArtifactRef(key=key, size=10, type="builtins.int") for name, key in refs.items()
        },
        attrs={"failed": False},
    )


def test_the_index_and_the_small_blobs_it_names_round_trip():
    index = _index(a="k1", b="k2")
    blobs = {"k1": b"\x00one", "k2": b"two\xff", "other": b"not named by the index"}
    decoded = decode_digest(encode_digest(index, blobs))
    assert decoded is not None
    got_index, got_blobs = decoded
    assert got_index == index
    assert got_blobs == {"k1": b"\x00one", "k2": b"two\xff"}


def test_big_blobs_and_blobs_past_the_total_stay_out():
    names = {f"v{i}": f"k{i}" for i in range(40)}
    blobs = {f"k{i}": bytes([i]) * INLINE_MAX for i in range(40)}
    blobs["k0"] = b"x" * (INLINE_MAX + 1)
    decoded = decode_digest(encode_digest(_index(**names), blobs))
    assert decoded is not None
    _, got = decoded
    assert "k0" not in got
    assert 0 < sum(len(b) for b in got.values()) <= INLINE_TOTAL


def test_a_digest_that_cannot_be_read_is_none():
    assert decode_digest("not json") is None
    assert decode_digest('{"blobs": {}}') is None  # no index
    assert decode_digest('{"index": {"version": 999, "artifacts": {}}, "blobs": {}}') is None
