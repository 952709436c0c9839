"""Artifact codecs: how a stored value's bytes are to be read.

- ``pickle``: 0; a Python value (the default; :mod:`headwater.serde.blob`); the value
- ``neutral``: 1; R data: vectors, factors, dates, lists, data frames, matrices
  (:mod:`headwater.serde.neutral`); numpy / pandas / plain values
- ``rds``: 2; any other R object, as R's ``serialize()`` bytes;
  :class:`~headwater.serde.robject.RObject`

The codec of every artifact is recorded in its task's artifact index (``ArtifactRef.codec``)
and in its blob's header, so any reader, old code paths included, decodes it right.
"""

from __future__ import annotations

from headwater.exceptions import UnsupportedFormat
from headwater.serde.robject import RObject

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

PICKLE = "pickle"
NEUTRAL = "neutral"
RDS = "rds"
NUMBERS = {PICKLE: 0, NEUTRAL: 1, RDS: 2}
NAMES = {n: name for name, n in NUMBERS.items()}


def codec_name(number: int) -> str:
    name = NAMES.get(number)
    if name is None:
        raise UnsupportedFormat(
            f"artifact codec {number} is unknown to this headwater: upgrade headwater to read it"
        )
    return name


def codec_number(name: str) -> int:
    number = NUMBERS.get(name)
    if number is None:
        raise UnsupportedFormat(
            f"artifact codec {name!r} is unknown to this headwater: upgrade headwater to read it"
        )
    return number


def decode(number: int, payload: Any) -> Any:
    """The Python value of a payload of codec ``number`` (not pickle)."""
    name = codec_name(number)
    if name == NEUTRAL:
        from headwater.serde.neutral import decode as decode_neutral

        return decode_neutral(payload)
    return RObject(bytes(payload))


def encode(name: str, value: Any) -> list[Any]:
    """The payload pieces of ``value`` under codec ``name`` (neutral or rds); TypeError when
    the value has no such form."""
    if name == RDS:
        if not isinstance(value, RObject):
            raise TypeError(f"only an RObject has an rds form, not a {type(value).__name__}")
        return [value.rds]
    if name == NEUTRAL:
        from headwater.serde.neutral import encode as encode_neutral

        return encode_neutral(value)
    raise TypeError(f"codec {name!r} does not encode values here")
