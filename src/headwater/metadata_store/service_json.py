"""JSON for the metadata service's client, over the C accelerator alone.

The ``json`` package imports ``re`` (and with it ``enum``): 10-15 ms of every client process,
a quarter of a whole ``latest_successful_run`` lookup. The client only ever exchanges plain
values (dicts with text keys, lists, text, numbers, booleans, null), so it encodes them here
and decodes with the scanner of ``_json`` (the module ``json`` itself uses), configured as
``json.loads`` would be.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

_quote = _json.encode_basestring_ascii
_INF = float("inf")


def _constant(name: str) -> float:
    raise ValueError(f"JSON constant {name} is not accepted")


class _Context:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_constant)
    memo: dict[str, str] = {}


# typeshed wants a make_scanner here; the C scanner reads these attributes of any object.
_scan = _json.make_scanner(_Context())  # type: ignore[arg-type]


def loads(data: bytes | str) -> Any:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    text = text.strip()
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if end != len(text):
        raise ValueError("extra data after the JSON value")
    return value


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_quote(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value in (_INF, -_INF):
            raise ValueError(f"{value!r} cannot be sent as JSON")
        out.append(float.__repr__(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(_quote(str(key)))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


def dumps(value: Any) -> bytes:
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("ascii")
