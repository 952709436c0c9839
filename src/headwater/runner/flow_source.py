"""The source of a flow class defined in a notebook, as a runnable flow file.

A class defined in a Jupyter cell has no file. Its methods' code objects do name the cell
(IPython registers each cell's text with ``linecache``), so the cell is found from the class
itself, whichever cell ran last; IPython's input history is the fallback. The file holds:

1. the import statements of every cell of the session (the flow's cell usually relies on an
   earlier ``from headwater import ...`` cell),
2. the flow's cell up to the end of the class, without bare expressions or IPython magics
   (so a ``NBRunner(...).nbrun()`` in the same cell does not run again in the subprocess),
3. ``if __name__ == "__main__": FlowClass()``.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import sys
from collections.abc import Iterable, Iterator

from headwater.exceptions import RunnerError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def flow_file_source(flow_cls: type) -> str:
    """A flow file that runs ``flow_cls`` (see the module docstring)."""
    name = flow_cls.__name__
    cell = _defining_cell(flow_cls)
    if cell is None:
        raise RunnerError(
            f"cannot find the source of class {name}: define it in a notebook cell (run the "
            "cell again) or in a .py file"
        )
    tree = _parse(cell)
    assert tree is not None
    body = _up_to_class(cell, tree, name)
    imports = [imp for imp in _session_imports() if imp not in body]
    # `from __future__` imports must come first in the file.
    future = [line for line in body.splitlines() if line.startswith("from __future__")]
    body = "\n".join(line for line in body.splitlines() if line not in future)
    future += [imp for imp in imports if imp.startswith("from __future__") and imp not in future]
    others = [imp for imp in imports if not imp.startswith("from __future__")]
    parts = [
        "# Flow file written by headwater's NBRunner from the notebook that defines " + name,
        *future,
        *others,
        "",
        body,
        "",
        "",
        'if __name__ == "__main__":',
        f"    {name}()",
        "",
    ]
    return "\n".join(parts)


def _ipython() -> Any:
    if "IPython" not in sys.modules:  # never import IPython just to look
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _defines(tree: ast.Module | None, name: str) -> bool:
    return tree is not None and any(
        isinstance(node, ast.ClassDef) and node.name == name for node in tree.body
    )


def _code_files(flow_cls: type) -> Iterator[str]:
    """The files (cells) the class's methods were compiled from."""
    for value in vars(flow_cls).values():
        func = inspect.unwrap(value) if callable(value) else None
        code = getattr(func, "__code__", None)
        if code is not None:
            yield code.co_filename


def _defining_cell(flow_cls: type) -> str | None:
    name = flow_cls.__name__
    for filename in dict.fromkeys(_code_files(flow_cls)):
        text = _plain_python("".join(linecache.getlines(filename)))
        if text and _defines(_parse(text), name):
            return text
    for cell in reversed(list(_history())):
        if _defines(_parse(cell), name):
            return cell
    return None


def _plain_python(text: str) -> str:
    """A cell's text as Python: without a leading cell magic (``%%time``: its body is Python),
    and in IPython's transformed form when line magics remain."""
    if text.lstrip().startswith("%%"):
        text = text.lstrip().split("\n", 1)[1] if "\n" in text.lstrip() else ""
    if not text or _parse(text) is not None:
        return text
    ip = _ipython()
    if ip is None:
        return text
    try:
        return ip.transform_cell(text)
    except Exception:  # noqa: BLE001 - not transformable: the caller skips it
        return text


def _history() -> Iterable[str]:
    """The session's cells, oldest first, as Python (from IPython's raw input history, so a
    cell run under a cell magic such as ``%%time`` is found too)."""
    ip = _ipython()
    if ip is None:
        return []
    manager = getattr(ip, "history_manager", None)
    cells = getattr(manager, "input_hist_raw", None) or ip.user_ns.get("In") or []
    return [_plain_python(c) for c in cells if isinstance(c, str) and c.strip()]


def _segment(lines: list[str], node: ast.stmt) -> str:
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    end = node.end_lineno or node.lineno
    return "".join(lines[start - 1 : end]).rstrip()


def _up_to_class(cell: str, tree: ast.Module, name: str) -> str:
    """The cell's statements up to the end of class ``name``: no bare expressions (calls,
    displays) and nothing that calls IPython."""
    lines = cell.splitlines(keepends=True)
    last = max(
        i
        for i, node in enumerate(tree.body)
        if isinstance(node, ast.ClassDef) and node.name == name
    )
    kept = []
    for node in tree.body[: last + 1]:
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
            continue
        text = _segment(lines, node)
        if "get_ipython(" in text:
            continue
        kept.append(text)
    return "\n".join(kept)


def _session_imports() -> list[str]:
    """Top-level import statements of every cell of the session, once each, in order."""
    seen: dict[str, None] = {}
    for cell in _history():
        tree = _parse(cell)
        if tree is None:
            continue
        lines = cell.splitlines(keepends=True)
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                seen.setdefault(_segment(lines, node), None)
    return list(seen)
