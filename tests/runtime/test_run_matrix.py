"""Every graph shape under every executor, checked through the client and through `dump`."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest

from headwater import Flow, metadata, namespace

FLOWS = Path(__file__).resolve().parent.parent / "flows"


def _shape_files() -> list[Path]:
    """Flow files that declare the end step's expected artifacts (EXPECTED = {...})."""
    out = []
    for path in sorted(FLOWS.glob("*.py")):
        if "EXPECTED" in path.read_text():
            out.append(path)
    return out


def _expected(path: Path) -> tuple[str, dict]:
    tree = ast.parse(path.read_text())
    expected = None
    flow_name = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "EXPECTED" for t in node.targets
        ):
            expected = ast.literal_eval(node.value)
        if isinstance(node, ast.ClassDef) and any(
            isinstance(b, ast.Name) and b.id == "FlowSpec" for b in node.bases
        ):
            flow_name = node.name
    assert expected is not None and flow_name is not None, path
    return flow_name, expected


SHAPES = _shape_files()


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
@pytest.mark.parametrize("flow_file", SHAPES, ids=[p.stem for p in SHAPES])
def test_shape_runs_and_reads_back(flow_file, executor, run_flow, hw_root, tmp_path):
    flow_name, expected = _expected(flow_file)
    proc = run_flow(flow_file, "run", "--executor", executor)
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\d+) of " + flow_name + " completed", proc.stderr).group(1)
    # Every task announced itself with the [run/step/task] prefix.
    assert re.search(rf"\[{run_id}/start/\d+\] Task is starting", proc.stderr)
    assert re.search(rf"\[{run_id}/end/\d+\] Task finished successfully", proc.stderr)

    # Through the client.
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Flow(flow_name)[run_id]
    assert run.successful and run.finished
    for name, value in expected.items():
        assert getattr(run.data, name) == value, name

    # Through `dump --file`.
    out = tmp_path / "dump.pkl"
    proc = run_flow(flow_file, "dump", f"{run_id}/end", "--file", str(out))
    assert proc.returncode == 0, proc.stderr
    dumped = pickle.loads(out.read_bytes())
    (values,) = dumped.values()
    for name, value in expected.items():
        assert values[name] == value, name
