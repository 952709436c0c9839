"""A run's flow imported from its code package, as a Ray worker does: once, as ``__main__``,
without handing control to the command line."""

from __future__ import annotations

import pickle
import textwrap

from headwater.runtime.launch import save_code_package, save_run_inputs
from headwater.runtime.package_import import as_main, import_run_flow
from headwater.stores import open_datastore

FLOW = textwrap.dedent(
    """
    import sys
    from headwater import FlowSpec, step
    from helper import TWO

    class Point:
        def __init__(self, x):
            self.x = x

    class PackFlow(FlowSpec):
        @step
        def start(self):
            self.p = Point(TWO)
            self.next(self.end)

        @step
        def end(self):
            pass

    if __name__ == "__main__":
        sys.exit("the command line must not run when a worker imports the flow")
    """
)


def test_a_run_flow_imports_as_main_from_its_package(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pack_flow.py").write_text(FLOW)
    (project / "helper.py").write_text("TWO = 2\n")
    monkeypatch.syspath_prepend(str(project))
    import importlib

    module = importlib.import_module("pack_flow")  # as the run's process had it
    ds = open_datastore("local", str(tmp_path / "store"))
    key = save_code_package(ds, module.PackFlow)
    save_run_inputs(ds, module.PackFlow, "1", {}, code_package=key)
    monkeypatch.delitem(__import__("sys").modules, "helper")  # the worker has its own copy
    (project / "helper.py").write_text("TWO = 'changed after the run started'\n")

    flow = import_run_flow(ds, "PackFlow", "1/_parameters/0/0")
    assert flow.flow_cls.__name__ == "PackFlow" and flow.flow_cls.__module__ == "__main__"
    assert list(flow.graph.nodes) == ["start", "end"]
    assert flow.module.__name__ == "__main__"
    assert flow.module.__dict__["__name__"] == "__main__"
    # The package's files, not the project's current ones.
    assert flow.module.TWO == 2 and flow.directory not in (str(project),)
    # Values of classes the flow defines pickle as __main__.Name, as in `python flow.py`.
    with as_main(flow.module):
        data = pickle.dumps(flow.module.Point(3))
        assert b"__main__" in data and pickle.loads(data).x == 3
    # Imported once per process.
    assert import_run_flow(ds, "PackFlow", "1/_parameters/0/0") is flow
