"""NBRunner in a real Jupyter kernel: a notebook (built with nbformat) defines a flow in one
cell and runs it from another; nbclient executes it with this interpreter's ipykernel."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from headwater.exceptions import RunnerError

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a Jupyter kernel

CELLS = [
    """
    import sys
    from headwater import FlowSpec, NBRunner, Parameter, current, step
    print("PREFIX", sys.prefix)
    """,
    """
    %env NB_TEST_MARKER=1
    SCALE = 10

    def helper(x):
        return x * SCALE

    class NotebookFlow(FlowSpec):
        alpha = Parameter("alpha", default=0.5)

        @step
        def start(self):
            self.x = helper(self.alpha)
            self.next(self.end)

        @step
        def end(self):
            print("x is", self.x)

    print("defined")
    """,
    """
    run = NBRunner(NotebookFlow, show_output=False).nbrun(alpha=0.1)
    print("RESULT", run.pathspec, run.successful, run.data.x)
    print("CURRENT", current.flow_name, current.is_running_flow)
    """,
    """
    nbr = NBRunner(NotebookFlow)
    src = nbr.source
    print("MAIN", src.rstrip().endswith('if __name__ == "__main__":\\n    NotebookFlow()'))
    print("CLEAN", "get_ipython" not in src and 'print("defined")' not in src)
    print("IMPORTS", "from headwater import FlowSpec, NBRunner" in src)
    nbr.cleanup()
    """,
    """
    class SameCellFlow(FlowSpec):
        @step
        def start(self):
            self.greeting = "hello from the same cell"
            self.next(self.end)

        @step
        def end(self):
            pass

    with NBRunner(SameCellFlow) as same:
        running = same.run()
    print("SAME", running.status, running.run.data.greeting)
    """,
    """
    async with NBRunner(NotebookFlow, show_output=False) as nbr:
        running = await nbr.async_run(alpha=2)
        await running.wait()
    print("ASYNC", running.status, running.run.data.x)
    resumed = NBRunner(NotebookFlow, show_output=False).nbresume(step="end")
    print("RESUMED", resumed.origin_pathspec, resumed.data.x)
    """,
]


@pytest.fixture
def kernel_env(tmp_path, monkeypatch, hw_root):
    """A python3 kernelspec that runs this interpreter, and Jupyter/IPython state in tmp."""
    kernels = tmp_path / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (test)",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec))
    kernel_tmp = tmp_path / "kernel-tmp"
    kernel_tmp.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter-config"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("TMPDIR", str(kernel_tmp))
    return kernel_tmp


def _outputs(cell, name="stdout") -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == name)


def test_nbrunner_runs_a_flow_defined_in_a_notebook_cell(kernel_env, hw_root):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in CELLS]
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(hw_root.parent)}},
    )
    client.execute()
    out = [_outputs(c) for c in nb.cells]

    # The kernel is this interpreter (so headwater and the flow run in the same environment).
    assert f"PREFIX {sys.prefix}" in out[0]
    assert "RESULT NotebookFlow/1 True 1.0" in out[2]
    assert "CURRENT None False" in out[2]  # no run state leaks into the notebook
    assert "MAIN True" in out[3] and "CLEAN True" in out[3] and "IMPORTS True" in out[3]
    assert "SAME successful hello from the same cell" in out[4]
    # show_output=True streams the run's output into the cell.
    assert "Task finished successfully." in _outputs(nb.cells[4], "stderr")
    assert "ASYNC successful 20" in out[5]
    assert "RESUMED NotebookFlow/2 20" in out[5]
    # Every temporary flow file and run-id file was removed.
    assert [p.name for p in kernel_env.iterdir() if p.name.startswith("headwater-")] == []


def test_nbrunner_outside_a_notebook_uses_the_class_file(client, monkeypatch):
    """A flow class from a .py module works too (its file is the source); no IPython needed."""
    flows = Path(__file__).resolve().parents[1] / "flows"
    monkeypatch.syspath_prepend(str(flows))
    import linear

    from headwater import NBRunner

    with NBRunner(linear.LinearFlow, show_output=False) as nbr:
        assert nbr.source.rstrip().endswith('if __name__ == "__main__":\n    LinearFlow()')
        running = nbr.run()
        flow_dir = nbr.flow_file.parent
    assert running.status == "successful", running.stderr
    assert running.run.data.y == 4
    assert not flow_dir.exists()


def test_nbrunner_needs_a_flow_class():
    from headwater import NBRunner

    with pytest.raises(RunnerError, match="NBRunner takes a FlowSpec subclass"):
        NBRunner(object)
