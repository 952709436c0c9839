"""Every graph shape with its tasks on a real (local) Ray cluster, read back through the client
and `dump` as with the local executors."""

from __future__ import annotations

import pickle
import re

import pytest

from graph_shapes import SHAPES
from graph_shapes import expected_of as _expected
from headwater import Flow, metadata, namespace

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.mark.parametrize("flow_file", SHAPES, ids=[p.stem for p in SHAPES])
def test_shape_runs_on_ray_and_reads_back(flow_file, run_flow, hw_root, tmp_path, ray_env):
    flow_name, expected = _expected(flow_file)
    proc = run_flow(flow_file, "run", "--executor", "ray", env=ray_env)
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\d+) of " + flow_name + " completed", proc.stderr).group(1)
    assert re.search(rf"\[{run_id}/start/\d+\] Task is starting", proc.stderr)
    assert re.search(rf"\[{run_id}/end/\d+\] Task finished successfully", proc.stderr)

    metadata(f"local@{hw_root}")
    namespace(None)
    run = Flow(flow_name)[run_id]
    assert run.successful and run.finished
    for name, value in expected.items():
        assert getattr(run.data, name) == value, name

    out = tmp_path / "dump.pkl"
    proc = run_flow(flow_file, "dump", f"{run_id}/end", "--file", str(out))
    assert proc.returncode == 0, proc.stderr
    (values,) = pickle.loads(out.read_bytes()).values()
    for name, value in expected.items():
        assert values[name] == value, name
