"""The neutral codec: R data (vectors, factors, dates, lists, data frames, matrices) as
Python values, and back, losslessly (the byte layout is in :mod:`headwater.serde.neutral_format`).

R to Python:

- ``NULL``: ``None``
- a length-1 logical, integer, double, character, Date or POSIXct, no NA, no names: ``bool``,
  ``int``, ``float``, ``str``, ``datetime.date``, ``pandas.Timestamp``
- double vector: numpy ``float64`` array (NA is R's NA, a NaN that R reads back as NA)
- integer / logical vector: numpy ``int32`` / ``bool`` array; a ``numpy.ma`` masked array when
  it holds NA
- character vector: numpy ``object`` array of ``str`` (NA: ``None``)
- raw vector: ``bytes``
- factor: ``pandas.Categorical`` (levels, ordered; NA: code -1)
- Date vector: numpy ``datetime64[D]`` array (NA: NaT)
- POSIXct vector: pandas ``DatetimeArray`` in its time zone (none: naive, in UTC)
- named vector: ``pandas.Series`` indexed by the names
- matrix, array: numpy array of that shape; a matrix with dimnames: a ``DataFrame`` whose
  ``attrs["r_matrix"]`` is True
- unnamed list / list with unique names: ``list`` / ``dict``
- data.frame (or tibble): ``pandas.DataFrame``: ``boolean``, ``Int32``, ``Float64``, ``string``,
  ``category``, ``datetime64[ns, tz]`` columns, Date columns as ``datetime.date`` objects, list
  columns as objects; row names as the index
- anything else: :class:`~headwater.serde.robject.RObject` (RDS bytes)

Python to R is the reverse, so each row comes back as it left R; besides, ``int`` is integer
(double beyond 32 bits), ``float`` double, numpy and pandas arrays their R vectors, and a
DataFrame a data.frame. A POSIXct whose time zone attribute is absent comes back with ``""``
(both mean local time).
"""

from __future__ import annotations

from headwater.serde.neutral_format import NA_INTEGER, NA_REAL_BITS, NotNeutral, Reader
from headwater.serde.robject import RObject

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.serde.neutral_format import Chunk

__all__ = ["NotNeutral", "decode", "encode"]


def encode(value: Any) -> list[Chunk]:
    """The neutral payload of ``value`` (its pieces, in order); NotNeutral when some part has
    no R counterpart (:mod:`headwater.serde.neutral_encode`)."""
    from headwater.serde.neutral_encode import encode as encode_value

    return encode_value(value)


# --- R to Python ------------------------------------------------------------------------------


def decode(data: Any) -> Any:
    """The Python value of a neutral payload."""
    r = Reader(data)
    return _value(r, r.root)


def _value(r: Reader, node: dict[str, Any]) -> Any:
    t = node["t"]
    if t == "null":
        return None
    if t == "list":
        items = [_value(r, item) for item in node.get("items", ())]
        if "names" not in node:
            return items
        return dict(zip(r.strings(node["names"]), items, strict=True))
    if t == "df":
        return _frame(r, node)
    if t == "rds":
        return RObject(bytes(r.buffer(node["b"])), node.get("class", ()))
    if t == "raw":
        return bytes(r.buffer(node["b"])) if "b" in node else b""
    if "dim" in node:
        return _matrix(r, node)
    if "names" in node:
        import pandas as pd

        return pd.Series(_column(r, node), index=r.strings(node["names"]), copy=False)
    if node["n"] == 1 and t in _SCALARS:
        scalar = _SCALARS[t](r, node)
        if scalar is not None:
            return scalar
    return _vector(r, node)


def _na_ints(values: Any) -> Any:
    return values == NA_INTEGER


def _na_reals(values: Any) -> Any:
    import numpy as np

    bits = values.view(np.uint64)
    return np.isnan(values) & ((bits & 0xFFFFFFFF) == (NA_REAL_BITS & 0xFFFFFFFF))


def _scalar_lgl(r: Reader, node: dict[str, Any]) -> Any:
    v = int(r.array(node, "<i4")[0])
    return None if v == NA_INTEGER else bool(v)


def _scalar_int(r: Reader, node: dict[str, Any]) -> Any:
    v = int(r.array(node, "<i4")[0])
    return None if v == NA_INTEGER else v


def _scalar_dbl(r: Reader, node: dict[str, Any]) -> Any:
    v = float(r.array(node, "<f8")[0])
    return None if v != v else v


def _scalar_chr(r: Reader, node: dict[str, Any]) -> Any:
    return None if r.na_mask(node) is not None else r.strings(node)[0]


def _scalar_date(r: Reader, node: dict[str, Any]) -> Any:
    v = float(r.array(node, "<f8")[0])
    if v != v or v != int(v):
        return None
    import datetime

    return datetime.date(1970, 1, 1) + datetime.timedelta(days=int(v))


def _scalar_time(r: Reader, node: dict[str, Any]) -> Any:
    v = float(r.array(node, "<f8")[0])
    return None if v != v else _times(r, node)[0]


_SCALARS = {
    "lgl": _scalar_lgl,
    "int": _scalar_int,
    "dbl": _scalar_dbl,
    "chr": _scalar_chr,
    "date": _scalar_date,
    "time": _scalar_time,
}


def _vector(r: Reader, node: dict[str, Any]) -> Any:
    """A vector without names or dim: numpy where numpy holds it exactly."""
    import numpy as np

    t = node["t"]
    if t in ("lgl", "int"):
        values = r.array(node, "<i4")
        na = _na_ints(values)
        data = values.astype(bool) if t == "lgl" else values.astype(np.int32)
        return np.ma.MaskedArray(data, mask=na) if na.any() else data
    if t == "dbl":
        return r.array(node, "<f8").astype(np.float64)
    if t == "chr":
        return r.string_array(node, None)
    if t == "date":
        days = r.array(node, "<f8")
        out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[D]")
        ok = ~np.isnan(days)
        out[ok] = np.floor(days[ok]).astype(np.int64).view("datetime64[D]")
        return out
    return _column(r, node)


def _column(r: Reader, node: dict[str, Any]) -> Any:
    """A vector as a pandas-ready array with nullable dtypes (data frame columns, Series)."""
    import numpy as np
    import pandas as pd

    t = node["t"]
    if t == "lgl":
        values = r.array(node, "<i4")
        return pd.arrays.BooleanArray(values == 1, _na_ints(values))
    if t == "int":
        values = r.array(node, "<i4")
        return pd.arrays.IntegerArray(values.astype(np.int32), _na_ints(values))
    if t == "dbl":
        values = r.array(node, "<f8").astype(np.float64)
        return pd.arrays.FloatingArray(values, _na_reals(values))
    if t == "chr":
        return pd.array(r.string_array(node, pd.NA), dtype=pd.StringDtype())
    if t == "fct":
        raw = r.array(node, "<i4")
        codes = raw.astype(np.int32) - 1
        codes[_na_ints(raw)] = -1
        return pd.Categorical.from_codes(
            codes, categories=r.strings(node["levels"]), ordered=bool(node.get("ordered"))
        )
    if t == "date":
        return _vector(r, node).astype(object)
    if t == "time":
        return _times(r, node)
    if t == "list":
        out = np.empty(len(node.get("items", ())), dtype=object)
        for i, item in enumerate(node.get("items", ())):
            out[i] = _value(r, item)
        return out
    if t == "raw":
        return np.frombuffer(r.buffer(node["b"]), dtype=np.uint8) if "b" in node else b""
    raise NotNeutral(f"a neutral value holds an unknown vector type {t!r}")


def _times(r: Reader, node: dict[str, Any]) -> Any:
    """POSIXct seconds as a pandas DatetimeArray (nanoseconds, exact for R's doubles)."""
    import numpy as np
    import pandas as pd

    secs = r.array(node, "<f8")
    na = np.isnan(secs)
    safe = np.where(na, 0.0, secs)
    whole = np.floor(safe)
    ns = whole.astype(np.int64) * 1_000_000_000 + np.round((safe - whole) * 1e9).astype(np.int64)
    ns[na] = np.iinfo(np.int64).min  # NaT
    index = pd.DatetimeIndex(ns.view("datetime64[ns]"))
    tz = node.get("tz") or None
    if tz:
        index = index.tz_localize("UTC").tz_convert(tz)
    return index.array


def _matrix(r: Reader, node: dict[str, Any]) -> Any:
    import numpy as np

    dim = tuple(node["dim"])
    flat = _vector(r, {k: v for k, v in node.items() if k not in ("dim", "dimnames")})
    if not isinstance(flat, np.ndarray):  # factor, POSIXct with dim: keep its R shape whole
        flat = np.asarray(flat, dtype=object)
    values = flat.reshape(dim, order="F")
    dimnames = node.get("dimnames")
    if not dimnames or len(dim) != 2:
        return values
    import pandas as pd

    rows, cols = (r.strings(d) if d else None for d in dimnames)
    frame = pd.DataFrame(values, index=rows, columns=cols)
    frame.attrs["r_matrix"] = True
    return frame


def _frame(r: Reader, node: dict[str, Any]) -> Any:
    import pandas as pd

    names = r.strings(node["names"]) if "names" in node else []
    nrow = node["nrow"]
    columns = {i: _column(r, item) for i, item in enumerate(node.get("items", ()))}
    index: Any = pd.RangeIndex(nrow)
    rownames = node.get("rownames")
    if rownames is not None:
        if rownames["t"] == "int":
            index = pd.Index(r.array(rownames, "<i4").astype("int64"))
        else:
            index = pd.Index(r.strings(rownames), dtype=object)
    frame = pd.DataFrame(columns, index=index, copy=False)
    frame.columns = names
    if node.get("class") and list(node["class"]) != ["data.frame"]:
        frame.attrs["r_class"] = list(node["class"])
    return frame
