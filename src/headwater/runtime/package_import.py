"""A run's flow, imported from its code package by a process that runs many of its tasks (a
Ray worker), so that each task is a fork of a warm process rather than a new interpreter.

The package is unpacked once per process into a temporary directory, and the flow file runs
once as the module ``__main__`` (as ``python flow.py`` would run it, so that values of classes
defined there pickle as ``__main__.Name`` whichever executor ran the step) without handing
control to the command line: it runs under another ``__name__``, which becomes ``__main__``
afterwards. Decorator arguments that read configs get the run's config values, and the graph
is read from the unpacked source.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from headwater.core.ids import AttemptPath
from headwater.exceptions import PlanError
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType
    from typing import Any

    from headwater.core.graph import FlowGraph
    from headwater.datastore.store import Datastore

_IMPORTING = "__headwater_flow__"  # the flow module's __name__ while it runs


class ImportedFlow(Record):
    flow_cls: type
    graph: FlowGraph
    module: ModuleType
    directory: str  # where the package is unpacked


_imported: dict[tuple[str, str, str], ImportedFlow] = {}  # (datastore url, flow, package)


def import_run_flow(ds: Datastore, flow: str, params_token: str) -> ImportedFlow:
    """The flow of the run whose parameters are at ``params_token``, imported once per
    process and code package."""
    from headwater.runtime.launch import CODE_PACKAGE

    params = ds.read_index(AttemptPath.from_token(flow, params_token))
    key = params.attrs.get(CODE_PACKAGE)
    if not key:
        raise PlanError(
            f"run {params_token.split('/')[0]} of {flow} has no code package (it was not started "
            "from a flow file): run the flow from its .py file to run its tasks elsewhere"
        )
    found = _imported.get((ds.url, flow, key))
    if found is not None:
        return found
    import tempfile

    from headwater.datastore.code_package import CodePackage

    package = CodePackage(ds.load_package(flow, key), key)
    directory = package.extract(tempfile.mkdtemp(prefix=f"headwater-{flow}-"))
    module = _run_as_main(os.path.join(directory, package.info["flow_file"]), directory)
    flow_cls = getattr(module, flow, None)
    if not isinstance(flow_cls, type):
        raise PlanError(
            f"the code package of {flow} ({package.info['flow_file']}) defines no class {flow}"
        )
    if "headwater.core.configs" in sys.modules and params.attrs.get("configs"):
        from headwater.core.configs import apply_configs
        from headwater.runtime.launch import saved_configs

        apply_configs(flow_cls, saved_configs(ds, flow, params))
    from headwater.core.graph import FlowGraph

    found = ImportedFlow(flow_cls, FlowGraph.from_class(flow_cls), module, directory)
    _imported[(ds.url, flow, key)] = found
    return found


def _run_as_main(path: str, directory: str) -> ModuleType:
    import types

    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    module = types.ModuleType("__main__")
    module.__file__ = path
    namespace = module.__dict__
    namespace["__name__"] = _IMPORTING  # `if __name__ == "__main__": Flow()` stays false
    namespace["__builtins__"] = __builtins__
    if directory not in sys.path:
        sys.path.insert(0, directory)  # the flow's own modules, next to it
    code = compile(source, path, "exec")
    sys.modules[_IMPORTING] = module  # what looks its module up while it runs finds it
    try:
        with as_main(module):
            exec(code, namespace)
    finally:
        sys.modules.pop(_IMPORTING, None)
    namespace["__name__"] = "__main__"
    for value in list(namespace.values()):
        _claim(value, set())
    return module


def _claim(obj: Any, seen: set[int]) -> None:
    """Give what the flow file defined the module name ``__main__`` (classes, their nested
    classes and methods, functions), as running it as a script would have."""
    if id(obj) in seen or getattr(obj, "__module__", None) != _IMPORTING:
        return
    seen.add(id(obj))
    with contextlib.suppress(AttributeError, TypeError):
        obj.__module__ = "__main__"
    if isinstance(obj, type):
        for value in list(vars(obj).values()):
            _claim(getattr(value, "__func__", value), seen)


@contextlib.contextmanager
def as_main(module: ModuleType) -> Iterator[None]:
    """``sys.modules["__main__"]`` is ``module`` inside (so pickles find what it defines)."""
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved
