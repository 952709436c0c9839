"""Python values to the neutral codec, for R (see :mod:`headwater.serde.neutral` for what each
Python value becomes, and :mod:`headwater.serde.neutral_format` for the bytes)."""

from __future__ import annotations

from headwater.serde.neutral_format import NA_INTEGER, NA_REAL_BITS, NotNeutral, Writer
from headwater.serde.robject import RObject

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.serde.neutral_format import Chunk


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
        node: dict[str, Any] = {"t": "list", "items": [_node(w, x) for x in v.values()]}
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
    missing: Any = pd.isna(a) if kind != "mixed" else None  # a boolean mask, or None
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
        days = np.where(missing, np.array(None, dtype=object), a).astype("datetime64[D]")
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
        # The strings as they are held (to_numpy(na_value=...) would look for NA again).
        strings = np.array(arr, dtype=object)
        if na.any():
            strings[na] = ""
        return _chr(w, strings, na)
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
        matrix = _array(w, values.ravel(order="F"), None)
        matrix["dim"] = list(values.shape)
        matrix["dimnames"] = [
            None if isinstance(ix, pd.RangeIndex) else _chr(w, [str(x) for x in ix], None)
            for ix in (df.index, df.columns)
        ]
        return matrix
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
