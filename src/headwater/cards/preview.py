"""Readable, bounded, escaped HTML previews of any Python value.

:func:`preview_html` gives a block (a one-line summary, then the value): a pandas DataFrame as a
table of its first rows with its shape and column dtypes; a Series likewise; a numpy array with
its shape, dtype and an excerpt; scalars and short strings as they are; containers
pretty-printed with limits on items and depth; anything else as its ``repr``, cut to size.
:func:`inline_html` gives a short one-line form for table cells (:func:`inline_text`, the same
as plain text). None of them ever raises, and none imports pandas or numpy: a value of those
types has already brought them in. Float columns of tables are rounded alike, to as few
decimals as show their values (at most four), so a preview stays narrow.

Cards and the web UI both preview values with this module.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from html import escape

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

SHORT_STRING = 200  # characters shown inline as they are
LONG_STRING = 2000  # characters of a long string shown before cutting
MAX_TEXT = 4000  # characters of any pretty-printed text
MAX_LINES = 60
MAX_ITEMS = 30  # items of a container shown at each level
MAX_DEPTH = 5
MAX_COLUMNS = 20
CELL_CHARS = 100

_SCALARS = (bool, int, float, complex, type(None))


def type_name(value: Any) -> str:
    t = type(value)
    module = t.__module__
    if module in ("builtins", "__main__"):
        return t.__qualname__
    return f"{module.split('.')[0]}.{t.__qualname__}"


def _kind(value: Any) -> str:
    """'dataframe', 'series', 'ndarray', 'npscalar' or '' from the type alone (no imports)."""
    t = type(value)
    module = t.__module__ or ""
    if module.startswith("pandas"):
        if t.__name__ == "DataFrame":
            return "dataframe"
        if t.__name__ == "Series":
            return "series"
    if module.startswith("numpy"):
        if t.__name__ == "ndarray":
            return "ndarray"
        if hasattr(value, "dtype") and getattr(value, "shape", None) == ():
            return "npscalar"
    return ""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _meta(text: str) -> str:
    return f'<div class="hw-meta">{escape(text)}</div>'


def _cut(text: str, limit: int) -> tuple[str, bool]:
    lines = text.splitlines()
    cut = len(text) > limit or len(lines) > MAX_LINES
    if len(lines) > MAX_LINES:
        text = "\n".join(lines[:MAX_LINES])
    return (text[:limit], cut) if cut else (text, False)


def _pre(text: str, limit: int = MAX_TEXT, total: str | None = None, wrap: bool = False) -> str:
    shown, cut = _cut(text, limit)
    note = ""
    if cut:
        note = _meta(f"… cut to fit; {total}" if total else "… cut to fit")
    css = "hw-value hw-wrap" if wrap else "hw-value"
    return f'<pre class="{css}">{escape(shown)}</pre>{note}'


def safe_repr(value: Any, limit: int = MAX_TEXT) -> str:
    """``repr(value)`` cut to ``limit`` characters; a failing ``__repr__`` is described."""
    try:
        text = repr(value)
    except Exception as ex:  # noqa: BLE001 - any user __repr__ may fail
        return f"<{type_name(value)}: repr() failed: {type(ex).__name__}: {ex}>"
    return text if len(text) <= limit else text[:limit] + " …"


# --- pretty printing with limits ----------------------------------------------------------------

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlevel = 2


def _pretty(value: Any, indent: int = 0, depth: int = 0) -> str:
    """Like pprint, but every container shows at most MAX_ITEMS items and MAX_DEPTH levels."""
    pad = "  " * (indent + 1)
    if isinstance(value, Mapping) and type(value).__repr__ in (dict.__repr__, object.__repr__):
        opener, closer = "{", "}"
        items = [
            f"{_short.repr(k)}: {_pretty(v, indent + 1, depth + 1)}"
            for k, v in _first(value.items())
        ]
        total = len(value)
    elif isinstance(value, (list, tuple, set, frozenset)) and type(value).__repr__ in (
        list.__repr__,
        tuple.__repr__,
        set.__repr__,
        frozenset.__repr__,
    ):
        brackets: dict[type, tuple[str, str]] = {list: ("[", "]"), tuple: ("(", ")")}
        opener, closer = brackets.get(type(value), ("{", "}"))
        seq = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        items = [_pretty(v, indent + 1, depth + 1) for v in _first(seq)]
        total = len(value)
    else:
        if _kind(value) or not isinstance(value, _SCALARS + (str, bytes)):
            return _short.repr(value) if depth else safe_repr(value)
        return _short.repr(value)
    if not total:
        return repr(type(value)()) if isinstance(value, (set, frozenset)) else opener + closer
    if depth >= MAX_DEPTH:
        return f"{opener}…{closer}"
    if total > len(items):
        items.append(f"… {total - len(items):,} more")
    if opener == "(" and total == 1:
        items[0] += ","  # a one-element tuple
    one_line = opener + ", ".join(items) + closer
    if len(one_line) + indent * 2 <= 88 and "\n" not in one_line:
        return one_line
    if all("\n" not in item and len(item) <= 40 for item in items):
        items = _pack(items, 88 - len(pad))  # short items fill lines, as pprint's compact
    inner = (",\n" + pad).join(items)
    return f"{opener}\n{pad}{inner}\n{'  ' * indent}{closer}"


def _pack(items: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(item) + 2 <= width:
            lines[-1] = f"{lines[-1]}, {item}"
        else:
            lines.append(item)
    return lines


def _first(items: Any) -> list[Any]:
    out = []
    for i, item in enumerate(items):
        if i >= MAX_ITEMS:
            break
        out.append(item)
    return out


# --- pandas and numpy ---------------------------------------------------------------------------


def _float_text(value: float) -> str:
    text = f"{value:.6g}"
    return text if any(c in text for c in ".en") else text + ".0"


def _cell_text(value: Any) -> str:
    if isinstance(value, float):
        return _float_text(value)
    text = safe_repr(value, CELL_CHARS) if not isinstance(value, str) else value
    if _kind(value) == "npscalar" and hasattr(value, "item"):
        try:
            return _cell_text(value.item())
        except Exception:  # noqa: BLE001
            pass
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + "…"


MAX_DECIMALS = 4  # a float column shows at most this many decimals (fewer for large values)


def _float_column(values: list[Any]) -> list[str] | None:
    """The cells of a float column, rounded alike: as few decimals as show every value (at
    least one, at most MAX_DECIMALS, fewer for large numbers), or scientific notation for
    very large or very small magnitudes. None when the values are not all floats."""
    import math

    if not all(isinstance(v, float) for v in values):
        return None
    finite = [abs(v) for v in values if math.isfinite(v)]
    top = max(finite, default=0.0)
    low = min((v for v in finite if v), default=0.0)

    def special(v: float) -> str:
        return "NaN" if math.isnan(v) else str(v)  # inf, -inf

    if top >= 1e9 or 0 < low < 1e-4:
        return [f"{v:.3e}" if math.isfinite(v) else special(v) for v in values]
    cap = MAX_DECIMALS if top < 1e3 else 2 if top < 1e5 else 0
    needed = 1 if cap else 0
    for v in finite:
        text = f"{v:.{cap}f}".rstrip("0")
        needed = max(needed, len(text) - text.index(".") - 1 if "." in text else 0)
    return [f"{v:.{needed}f}" if math.isfinite(v) else special(v) for v in values]


def _column_cells(head: Any, j: int) -> list[str]:
    values = head.iloc[:, j].tolist()
    if getattr(head.dtypes.iloc[j], "kind", "") == "f":
        cells = _float_column(values)
        if cells is not None:
            return cells
    return [_cell_text(v) for v in values]


def _dataframe(df: Any, max_rows: int) -> str:
    rows, cols = df.shape
    shown_cols = list(df.columns[:MAX_COLUMNS])
    head = df.iloc[:max_rows, :MAX_COLUMNS]
    names = "".join(f"<th>{escape(str(c))}</th>" for c in shown_cols)
    dtypes = "".join(f"<th>{escape(str(df.dtypes.iloc[i]))}</th>" for i in range(len(shown_cols)))
    index_name = escape(str(df.index.name)) if df.index.name is not None else ""
    columns = [_column_cells(head, j) for j in range(len(shown_cols))]
    body = []
    for i, label in enumerate(head.index):
        cells = "".join(f"<td>{escape(column[i])}</td>" for column in columns)
        body.append(f'<tr><th class="hw-index">{escape(_cell_text(label))}</th>{cells}</tr>')
    summary = f"DataFrame · {_plural(rows, 'row')} × {_plural(cols, 'column')}"
    notes = []
    if rows > max_rows:
        notes.append(f"first {max_rows:,} of {rows:,} rows shown")
    if cols > MAX_COLUMNS:
        notes.append(f"first {MAX_COLUMNS} of {cols:,} columns shown")
    table = (
        '<div class="hw-scroll"><table class="hw-table hw-data"><thead>'
        f'<tr><th class="hw-index">{index_name}</th>{names}</tr>'
        f'<tr class="hw-dtypes"><th class="hw-index">dtype</th>{dtypes}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    return _meta(summary) + table + (_meta("; ".join(notes)) if notes else "")


def _series(s: Any, max_rows: int) -> str:
    n = len(s)
    head = s.iloc[:max_rows]
    values = head.tolist()
    cells = (_float_column(values) if getattr(s.dtype, "kind", "") == "f" else None) or [
        _cell_text(v) for v in values
    ]
    body = "".join(
        f'<tr><th class="hw-index">{escape(_cell_text(i))}</th><td>{escape(c)}</td></tr>'
        for i, c in zip(head.index, cells, strict=True)
    )
    name = escape(str(s.name)) if s.name is not None else ""
    summary = f"Series · {_plural(n, 'value')} · dtype {s.dtype}"
    table = (
        '<div class="hw-scroll"><table class="hw-table hw-data"><thead>'
        f'<tr><th class="hw-index"></th><th>{name}</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
    note = _meta(f"first {max_rows:,} of {n:,} values shown") if n > max_rows else ""
    return _meta(summary) + table + note


def _ndarray(arr: Any) -> str:
    import numpy as np

    summary = f"ndarray · shape {tuple(arr.shape)} · dtype {arr.dtype}"
    if arr.ndim > 1:
        summary += f" · {_plural(arr.size, 'element')}"
    try:
        text = np.array2string(arr, threshold=60, edgeitems=3, max_line_width=88)
    except Exception:  # noqa: BLE001 - object arrays with odd elements
        text = safe_repr(arr)
    return _meta(summary) + _pre(text)


# --- public -------------------------------------------------------------------------------------


def describe(value: Any) -> str:
    """A one-line summary of what ``value`` is: type, size, shape."""
    kind = _kind(value)
    try:
        if kind == "dataframe":
            rows, cols = value.shape
            return f"DataFrame · {_plural(rows, 'row')} × {_plural(cols, 'column')}"
        if kind == "series":
            return f"Series · {_plural(len(value), 'value')} · dtype {value.dtype}"
        if kind == "ndarray":
            return f"ndarray · shape {tuple(value.shape)} · dtype {value.dtype}"
        if isinstance(value, str):
            return f"str · {_plural(len(value), 'character')}"
        if isinstance(value, (bytes, bytearray)):
            return f"{type(value).__name__} · {_plural(len(value), 'byte')}"
        if isinstance(value, Mapping):
            return f"{type_name(value)} · {_plural(len(value), 'key')}"
        if isinstance(value, (list, tuple, set, frozenset)):
            return f"{type_name(value)} · {_plural(len(value), 'item')}"
    except Exception:  # noqa: BLE001 - odd objects claiming a shape or length
        pass
    return type_name(value)


def preview_html(value: Any, max_rows: int = 10) -> str:
    """A block preview of ``value`` (summary line plus content); escaped; never raises."""
    try:
        return _preview(value, max_rows)
    except Exception as ex:  # noqa: BLE001 - a preview never breaks a card
        return _meta(type_name(value)) + _pre(
            f"(no preview: {type(ex).__name__}: {ex})\n{safe_repr(value)}"
        )


def _preview(value: Any, max_rows: int) -> str:
    kind = _kind(value)
    if kind == "dataframe":
        return _dataframe(value, max_rows)
    if kind == "series":
        return _series(value, max_rows)
    if kind == "ndarray":
        return _ndarray(value)
    if kind == "npscalar":
        return f'<span class="hw-scalar">{escape(str(value))}</span> ' + _meta(
            f"numpy {value.dtype}"
        )
    if isinstance(value, _SCALARS):
        return f'<span class="hw-scalar">{escape(repr(value))}</span>'
    if isinstance(value, str):
        if len(value) <= SHORT_STRING and "\n" not in value:
            return f'<span class="hw-scalar">{escape(value)}</span>'
        total = f"{len(value):,} characters in all"
        if len(value) <= LONG_STRING:
            return _pre(value, LONG_STRING, total, wrap=True)
        return _meta(describe(value)) + _pre(value, LONG_STRING, total, wrap=True)
    if isinstance(value, (bytes, bytearray)):
        return _meta(describe(value)) + _pre(safe_repr(bytes(value[:512])), 2000)
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return _meta(describe(value)) + _pre(_pretty(value))
    return _meta(type_name(value)) + _pre(safe_repr(value))


def inline_html(value: Any) -> str:
    """A short, one-line, escaped form of ``value`` for a table cell."""
    kind = _kind(value)
    if kind in ("dataframe", "series", "ndarray"):
        try:
            return f'<span class="hw-muted">{escape(describe(value))}</span>'
        except Exception:  # noqa: BLE001
            pass
    return escape(inline_text(value))


def inline_text(value: Any) -> str:
    """A short, one-line text of ``value`` (not escaped): at most 500 characters."""
    try:
        kind = _kind(value)
        if kind in ("dataframe", "series", "ndarray"):
            return describe(value)
        if isinstance(value, str):
            text = value
        elif isinstance(value, _SCALARS) or kind == "npscalar":
            text = _cell_text(value)
        elif isinstance(value, (Mapping, list, tuple, set, frozenset)):
            text = _pretty(value, depth=MAX_DEPTH - 3).replace("\n", " ")
        else:
            text = safe_repr(value, 500)
    except Exception as ex:  # noqa: BLE001
        text = f"<{type_name(value)}: no preview: {type(ex).__name__}>"
    if len(text) > 500:
        text = text[:500] + "…"
    return text
