"""Short previews of artifact values: a bounded repr, plus shape and a few rows of tables and
arrays. Recognised by type name, so pandas and numpy are never imported here."""

from __future__ import annotations

import reprlib

from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

MAX_REPR = 400
TABLE_ROWS = 5
TABLE_COLS = 12
CELL_CHARS = 60


class Preview(Record):
    text: str  # a short repr (or an excerpt of an array)
    summary: str = ""  # e.g. "DataFrame · 100 rows × 3 columns"
    header: tuple[str, ...] = ()  # a small table: column names...
    rows: tuple[tuple[str, ...], ...] = ()  # ...and the first rows


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_repr(value: Any, limit: int = MAX_REPR) -> str:
    """A repr of at most ``limit`` characters; never raises."""
    r = reprlib.Repr()
    r.maxstring = limit
    r.maxother = limit
    r.maxlist = r.maxtuple = r.maxset = r.maxfrozenset = r.maxdeque = r.maxarray = 20
    r.maxdict = 12
    r.maxlevel = 4
    try:
        text = r.repr(value)
    except Exception as ex:  # a user __repr__ that fails must not break the page
        text = f"<{type(value).__name__}: repr failed: {type(ex).__name__}>"
    return _cut(text, limit)


def _type_path(value: Any) -> str:
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}"


def _dataframe(df: Any) -> Preview:
    rows, cols = df.shape
    dtypes = ", ".join(f"{c}: {d}" for c, d in list(df.dtypes.items())[:TABLE_COLS])
    if cols > TABLE_COLS:
        dtypes += ", …"
    head = df.iloc[:TABLE_ROWS, :TABLE_COLS]
    header = ("",) + tuple(_cut(str(c), CELL_CHARS) for c in head.columns)
    body = tuple(
        (_cut(str(idx), CELL_CHARS),) + tuple(_cut(str(v), CELL_CHARS) for v in row)
        for idx, row in zip(head.index, head.itertuples(index=False, name=None), strict=True)
    )
    return Preview(
        text=f"dtypes: {dtypes}",
        summary=f"DataFrame · {rows} rows × {cols} columns",
        header=header,
        rows=body,
    )


def _series(s: Any) -> Preview:
    return Preview(
        text=_cut(s.head(TABLE_ROWS * 2).to_string(), MAX_REPR),
        summary=f"Series · {len(s)} values · dtype {s.dtype}",
    )


def _ndarray(a: Any) -> Preview:
    import numpy as np  # the value is an ndarray, so numpy is already imported

    excerpt = np.array2string(a, threshold=30, edgeitems=3, max_line_width=100)
    shape = " × ".join(str(n) for n in a.shape) or "scalar"
    return Preview(text=_cut(excerpt, MAX_REPR), summary=f"array · {shape} · dtype {a.dtype}")


def preview(value: Any) -> Preview:
    """A preview of any value; table-like values get a summary, everything a short text."""
    path = _type_path(value)
    try:
        if path.startswith("pandas.") and path.endswith(".DataFrame"):
            return _dataframe(value)
        if path.startswith("pandas.") and path.endswith(".Series"):
            return _series(value)
        if path == "numpy.ndarray":
            return _ndarray(value)
    except Exception:  # an odd subclass or a broken frame: fall back to a plain repr
        pass
    summary = ""
    if isinstance(value, (list, tuple, dict, set, frozenset, str, bytes)):
        summary = f"{type(value).__name__} · {len(value)} items"
        if isinstance(value, (str, bytes)):
            summary = f"{type(value).__name__} · {len(value)} characters"
            if isinstance(value, bytes):
                summary = f"bytes · {len(value)} bytes"
    return Preview(text=short_repr(value), summary=summary)
