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

from headwater.serde.neutral_format import NA_INTEGER, NA_REAL_BITS, Reader, Writer
from headwater.serde.robject import RObject

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.serde.neutral_format import Chunk


class NotNeutral(TypeError):
    """A Python value with no R counterpart."""


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


# --- Python to R ------------------------------------------------------------------------------


def encode(value: Any) -> list[Chunk]:
    """The neutral payload of ``value`` (its pieces, in order); NotNeutral when some part has
    no R counterpart."""
    w = Writer()
    root = _node(w, value)
    return w.chunks(root)


def _tz_name(tz: Any) -> str:
    if tz is None:
        return ""
    name = getattr(tz, "key", None) or getattr(tz, "zone", None) or str(tz)
    return "UTC" if name in ("UTC", "utc", "tzutc()") else name


def _node(w: Writer, v: Any) -> dict[str, Any]:
    import datetime

    if v is None:
        return {"t": "null"}
    if isinstance(v, RObject):
        return {"t": "rds", "b": w.add(v.rds), "class": list(v.r_class)}
    if isinstance(v, (bool, int, float, str)):
        return _scalar(w, v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"t": "raw", "n": len(v), "b": w.add(bytes(v))} if len(v) else {"t": "raw", "n": 0}
    if isinstance(v, datetime.datetime):
        import pandas as pd

        ts = pd.Timestamp(v)
        return _time_node(w, _ns_array([ts.as_unit("ns").value]), _tz_name(ts.tz))
    if isinstance(v, datetime.date):
        days = (v - datetime.date(1970, 1, 1)).days
        return _numeric(w, "date", _f8([float(days)]))
    if isinstance(v, dict):
        bad = [k for k in v if not isinstance(k, str)]
        if bad:
            raise NotNeutral(f"a dict with a {type(bad[0]).__name__} key (R list names are text)")
        node = {"t": "list", "items": [_node(w, x) for x in v.values()]}
        node["names"] = _chr(w, list(v), None)
        return node
    if isinstance(v, (list, tuple)):
        return {"t": "list", "items": [_node(w, x) for x in v]}
    as_r = getattr(v, "_hw_r_value", None)  # a value that says what R should see of it
    if callable(as_r) and not isinstance(v, type):
        return _node(w, as_r())
    module = type(v).__module__.split(".", 1)[0]
    if module == "numpy":
        return _numpy(w, v)
    if module == "pandas":
        return _pandas(w, v)
    raise NotNeutral(f"a {type(v).__module__}.{type(v).__qualname__}")


def _scalar(w: Writer, v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return _ints(w, "lgl", _i4([int(v)]))
    if isinstance(v, int):
        if -(2**31) < v < 2**31:
            return _ints(w, "int", _i4([v]))
        return _numeric(w, "dbl", _f8([float(v)]))
    if isinstance(v, float):
        return _numeric(w, "dbl", _f8([v]))
    return _chr(w, [v], None)


def _i4(values: Any) -> Any:
    import numpy as np

    return np.asarray(values, dtype="<i4")


def _f8(values: Any) -> Any:
    import numpy as np

    return np.asarray(values, dtype="<f8")


def _ints(w: Writer, t: str, values: Any, na: Any = None) -> dict[str, Any]:
    import numpy as np

    values = np.ascontiguousarray(values, dtype="<i4")
    if na is not None and na.any():
        values = values.copy()
        values[na] = NA_INTEGER
    node: dict[str, Any] = {"t": t, "n": len(values)}
    if len(values):
        node["b"] = w.add(values.data)
    return node


def _numeric(w: Writer, t: str, values: Any, na: Any = None) -> dict[str, Any]:
    import numpy as np

    values = np.ascontiguousarray(values, dtype="<f8")
    if na is not None and na.any():
        values = values.copy()
        values.view(np.uint64)[na] = NA_REAL_BITS
    node: dict[str, Any] = {"t": t, "n": len(values)}
    if len(values):
        node["b"] = w.add(values.data)
    return node


def _chr(w: Writer, strings: Any, na: Any) -> dict[str, Any]:
    """A character node from a sequence of str (NA positions, if any, hold anything)."""
    n = len(strings)
    node: dict[str, Any] = {"t": "chr", "n": n}
    if n == 0:
        return node
    if n >= 64 and _repeats(strings):  # a dictionary and codes: R reads them much faster
        import numpy as np
        import pandas as pd

        values = np.array(strings, dtype=object)
        if na is not None:
            values[na] = None
        codes, uniques = pd.factorize(values)
        if 2 * len(uniques) <= n:
            node["codes"] = w.add(np.ascontiguousarray(codes, dtype="<i4").data)
            node["dict"] = _chr(w, list(uniques), None)
            return node
    if na is not None and na.any():
        import numpy as np

        strings = np.array(strings, dtype=object)
        strings[na] = ""
        node_na = w.add(np.ascontiguousarray(na, dtype=np.uint8).data)
    else:
        node_na = None
    try:
        text = "\0".join(strings)
    except TypeError:
        bad = next(s for s in strings if not isinstance(s, str))
        raise NotNeutral(f"text mixed with a {type(bad).__name__}") from None
    if text.count("\0") != n - 1:
        raise NotNeutral("text holding a NUL character (R strings cannot)")
    node["b"] = w.add((text + "\0").encode("utf-8", "surrogatepass"))
    if node_na is not None:
        node["na"] = node_na
    return node


def _repeats(strings: Any) -> bool:
    """Whether a sample of evenly spaced strings has at most half of them distinct."""
    step = max(1, len(strings) // 10000)
    sample = strings[::step]
    return 2 * len(set(sample)) <= len(sample)


def _ns_array(values: Any) -> Any:
    import numpy as np

    return np.asarray(values, dtype=np.int64)


def _time_node(w: Writer, ns: Any, tz: str, na: Any = None) -> dict[str, Any]:
    """POSIXct from nanoseconds since the epoch (NaT: int64 min)."""
    import numpy as np

    nat = ns == np.iinfo(np.int64).min
    if na is not None:
        nat = nat | na
    whole, rem = np.divmod(np.where(nat, 0, ns), 1_000_000_000)
    secs = whole.astype(np.float64) + rem / 1e9
    node = _numeric(w, "time", secs, nat)
    if tz:
        node["tz"] = tz
    else:
        node["tz"] = ""
    return node


def _with_dim(w: Writer, node: dict[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    if len(shape) > 1:
        node["dim"] = list(shape)
    return node


def _numpy(w: Writer, v: Any) -> dict[str, Any]:
    import numpy as np

    if isinstance(v, np.generic):
        if isinstance(v, np.datetime64):
            return _node(w, np.array([v]))
        return _node(w, v.item())
    mask = None
    if isinstance(v, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(v).ravel(order="F")
        v = v.data
    shape = v.shape
    flat = v.ravel(order="F") if v.ndim > 1 else v
    return _with_dim(w, _array(w, flat, mask), shape)


def _array(w: Writer, a: Any, na: Any) -> dict[str, Any]:
    """A 1-D numpy array (with an NA mask or None) as a vector node."""
    import numpy as np

    kind = a.dtype.kind
    if kind == "b":
        return _ints(w, "lgl", a.astype("<i4"), na)
    if kind in "iu":
        if a.dtype.itemsize < 4 or (a.dtype.itemsize == 4 and kind == "i"):
            return _ints(w, "int", a, na)
        ok = a if na is None else a[~na]
        if not len(ok) or (ok.min() > NA_INTEGER and ok.max() < 2**31):
            return _ints(w, "int", a.astype("<i4"), na)
        return _numeric(w, "dbl", a.astype("<f8"), na)
    if kind == "f":
        return _numeric(w, "dbl", a, na)
    if kind in "US":
        strings = a.astype(str).tolist() if kind == "S" else a.tolist()
        return _chr(w, strings, na)
    if kind == "M":
        unit = np.datetime_data(a.dtype)[0]
        if unit == "D":
            nat = np.isnat(a)
            days = a.view(np.int64).astype(np.float64)
            return _numeric(w, "date", days, nat if na is None else nat | na)
        return _time_node(w, a.astype("datetime64[ns]").view(np.int64), "", na)
    if kind == "O":
        return _objects(w, a, na)
    raise NotNeutral(f"a numpy array of {a.dtype}")


def _objects(w: Writer, a: Any, na: Any) -> dict[str, Any]:
    """An object array: text, dates, bools... as their vector; else an R list."""
    import numpy as np
    import pandas as pd

    kind = pd.api.types.infer_dtype(a, skipna=True)
    missing = pd.isna(a) if kind != "mixed" else None
    if na is not None:
        missing = na if missing is None else missing | na
    if kind in ("string", "empty"):
        return _chr(w, a.tolist(), missing)
    if kind == "boolean":
        return _ints(w, "lgl", np.where(missing, 0, a).astype("<i4"), missing)
    if kind in ("integer", "floating", "mixed-integer-float"):
        values = np.where(missing, 0, a).astype(np.float64 if kind != "integer" else np.int64)
        return _array(w, values, missing)
    if kind == "date":
        days = np.where(missing, None, a).astype("datetime64[D]")
        return _array(w, days, missing)
    if kind in ("datetime", "datetime64"):
        return _pandas(w, pd.array(a.tolist()))
    return {"t": "list", "items": [_node(w, x) for x in a.tolist()]}


def _pandas(w: Writer, v: Any) -> dict[str, Any]:
    import pandas as pd

    if isinstance(v, pd.DataFrame):
        return _frame_node(w, v)
    if isinstance(v, pd.Series):
        node = _extension(w, v.array)
        index = v.index
        if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
            node["names"] = _chr(w, [str(x) for x in index], None)
        return node
    if isinstance(v, pd.Index):
        return _extension(w, v.array)
    if isinstance(v, pd.Timestamp):
        return _node(w, v.to_pydatetime(warn=False)) if v is not pd.NaT else _scalar(w, 0.0)
    if isinstance(v, pd.api.extensions.ExtensionArray):
        return _extension(w, v)
    raise NotNeutral(f"a {type(v).__module__}.{type(v).__qualname__}")


def _extension(w: Writer, arr: Any) -> dict[str, Any]:
    """A pandas array (numpy-backed or an extension array) as a vector node."""
    import numpy as np
    import pandas as pd

    dtype = arr.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(arr.codes, dtype=np.int32) + 1
        node = _ints(w, "fct", codes, codes == 0)
        node["levels"] = _chr(w, [str(c) for c in dtype.categories], None)
        node["ordered"] = bool(dtype.ordered)
        return node
    if isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        index = pd.DatetimeIndex(arr)
        ns = index.as_unit("ns").asi8 if hasattr(index, "as_unit") else index.asi8
        if isinstance(dtype, np.dtype) and np.datetime_data(dtype)[0] == "D":
            return _array(w, np.asarray(arr), None)
        return _time_node(w, ns, _tz_name(index.tz))
    if isinstance(dtype, np.dtype):
        values = np.asarray(arr)
        if values.dtype.kind == "f":  # in pandas, NaN is missing: R's NA
            return _numeric(w, "dbl", values, np.isnan(values))
        return _array(w, values, None)
    na = np.asarray(arr.isna(), dtype=bool)
    if isinstance(dtype, pd.BooleanDtype):
        return _ints(w, "lgl", arr.to_numpy(dtype="int32", na_value=0), na)
    if isinstance(dtype, pd.StringDtype):
        return _chr(w, arr.to_numpy(dtype=object, na_value="").tolist(), na)
    kind = getattr(dtype, "kind", "O")
    if kind in "iu":
        return _array(w, arr.to_numpy(dtype="int64", na_value=0), na)
    if kind == "f":
        values = np.asarray(getattr(arr, "_data", None))
        if values.dtype.kind != "f":
            values = arr.to_numpy(dtype="float64", na_value=np.nan)
        return _numeric(w, "dbl", values, na)
    return _objects(w, np.asarray(arr, dtype=object), None)


def _frame_node(w: Writer, df: Any) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    if df.attrs.get("r_matrix"):
        values = df.to_numpy()
        node = _array(w, values.ravel(order="F"), None)
        node["dim"] = list(values.shape)
        node["dimnames"] = [
            None if isinstance(ix, pd.RangeIndex) else _chr(w, [str(x) for x in ix], None)
            for ix in (df.index, df.columns)
        ]
        return node
    items = []
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if col.dtype == object:
            items.append(_objects(w, np.asarray(col, dtype=object), None))
        else:
            items.append(_extension(w, col.array))
    node: dict[str, Any] = {
        "t": "df",
        "items": items,
        "names": _chr(w, [str(c) for c in df.columns], None),
        "nrow": len(df),
    }
    index = df.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        if pd.api.types.is_integer_dtype(index.dtype):
            node["rownames"] = _ints(w, "int", np.asarray(index, dtype=np.int64).astype("<i4"))
        else:
            node["rownames"] = _chr(w, [str(x) for x in index], None)
    r_class = df.attrs.get("r_class")
    if r_class:
        node["class"] = list(r_class)
    return node
