"""Every graph shape under every executor (the local ones, and Ray on a real local head),
checked through the client and through `dump`."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from graph_shapes import SHAPES
from graph_shapes import expected_of as _expected
from headwater import Flow, metadata, namespace

FLOWS = Path(__file__).resolve().parent.parent / "flows"


EXECUTORS = ["fork", "subprocess", pytest.param("ray", marks=[pytest.mark.ray, pytest.mark.slow])]


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("flow_file", SHAPES, ids=[p.stem for p in SHAPES])
def test_shape_runs_and_reads_back(flow_file, executor, run_flow, hw_root, tmp_path, request):
    flow_name, expected = _expected(flow_file)
    env = request.getfixturevalue("ray_env") if executor == "ray" else None
    proc = run_flow(flow_file, "run", "--executor", executor, env=env)
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
