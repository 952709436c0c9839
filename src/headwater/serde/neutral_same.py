"""Whether a Python value is still the value a neutral payload decodes to.

A Python step that reads an R value and leaves it alone should keep the R step's blob (the
datastore asks, before saving a loaded value again). The payload R wrote and one Python would
write for the same value differ in their bytes (JSON spacing, which strings became a
dictionary), so the check compares values: the payload is decoded again and compared with
what the step holds, exactly (dtypes, NA, the bits of doubles, names, attributes).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def same_as_decoded(value: Any, payload: Any) -> bool:
    from headwater.serde.neutral import decode

    try:
        return _same(value, decode(payload))
    except Exception:  # noqa: BLE001 - unsure means changed: the value is saved again
        return False


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    module = type(a).__module__.split(".", 1)[0]
    if module == "numpy":
        return _same_array(a, b)
    if module == "pandas":
        return _same_pandas(a, b)
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    return bool(a == b)


def _same_array(a: Any, b: Any) -> bool:
    import numpy as np

    if not isinstance(a, np.ndarray):
        return bool(a == b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if isinstance(a, np.ma.MaskedArray):
        if not np.array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b)):
            return False
        a, b = a.data, b.data
    if a.dtype == object:
        return all(_same(x, y) for x, y in zip(a.ravel(), b.ravel(), strict=True))
    return np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def _same_pandas(a: Any, b: Any) -> bool:
    import pandas as pd

    if isinstance(a, pd.DataFrame):
        return (
            a.attrs == b.attrs
            and a.index.equals(b.index)
            and a.index.dtype == b.index.dtype
            and list(a.columns) == list(b.columns)
            and list(a.dtypes) == list(b.dtypes)
            and all(_same_pandas(a.iloc[:, i], b.iloc[:, i]) for i in range(a.shape[1]))
        )
    if isinstance(a, pd.Timestamp):
        return a == b and str(a.tz) == str(b.tz) and a.value == b.value
    if isinstance(a, pd.Series):
        return a.dtype == b.dtype and a.index.equals(b.index) and _same_values(a.array, b.array)
    return a.dtype == b.dtype and _same_values(a, b)


def _same_values(a: Any, b: Any) -> bool:
    """Two pandas arrays of one dtype hold the same values (NA where NA, same bits else)."""
    import numpy as np
    import pandas as pd

    if len(a) != len(b):
        return False
    if isinstance(a, pd.arrays.FloatingArray):
        data_a, data_b = a.to_numpy("float64", na_value=0.0), b.to_numpy("float64", na_value=0.0)
        return bool(np.array_equal(a.isna(), b.isna()) and data_a.tobytes() == data_b.tobytes())
    if a.dtype == object:
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a.equals(b)) if hasattr(a, "equals") else bool(np.array_equal(a, b))
