"""`argo-workflows create`: every graph shape compiled to Argo resources that validate
against Argo's own models (hera's, strict), and run here by a stand-in for Argo's controller
(argo_walker.py) to a run that reads back like the one `run` makes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from argo_schema import problems
from argo_walker import Walker

TESTS = Path(__file__).resolve().parents[2]
FLOWS = TESTS / "flows"
sys.path.insert(0, str(TESTS / "runtime"))

from test_run_matrix import SHAPES, _expected  # noqa: E402
from test_scheduled_steps import _shape  # noqa: E402

from headwater import Flow, metadata, namespace  # noqa: E402

IMAGE = "registry.example/headwater:test"


def create(flow_file: Path, hw_root: Path, *args: str, env=None) -> subprocess.CompletedProcess:
    full = {**os.environ, "HEADWATER_KUBERNETES_IMAGE": IMAGE, **(env or {})}
    cmd = [sys.executable, str(flow_file), *args]
    if "argo-workflows" not in args:
        cmd += ["argo-workflows", "create", "--only-json"]
    return subprocess.run(
        cmd, env=full, cwd=hw_root.parent, capture_output=True, text=True, timeout=120
    )


def resources(flow_file: Path, hw_root: Path, *args: str, env=None) -> dict[str, dict]:
    proc = create(flow_file, hw_root, *args, env=env)
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    assert listing["kind"] == "List"
    out = {}
    for item in listing["items"]:
        assert problems(item) == [], (item["kind"], problems(item)[:10])
        out[item["kind"]] = item
    return out


def walk(template: dict, name: str, arguments=None) -> Walker:
    """Run the template here as Argo would, with headwater's Python as the image's `python`."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    walker = Walker(template, name, env, arguments)
    walker.run()
    return walker


def _client(root: Path) -> None:
    metadata(f"local@{root}")
    namespace(None)


@pytest.mark.slow
@pytest.mark.parametrize("flow_file", SHAPES, ids=[p.stem for p in SHAPES])
def test_every_shape_compiled_for_argo_runs_like_run(flow_file, run_flow, hw_root):
    flow_name, expected = _expected(flow_file)
    made = run_flow(flow_file, "run")
    assert made.returncode == 0, made.stderr
    template = resources(flow_file, hw_root)["WorkflowTemplate"]
    walker = walk(template, "wf-1")

    _client(hw_root)
    ran = re.search(rf"Run (\S+) of {flow_name} completed", made.stderr).group(1)
    by_argo, by_run = Flow(flow_name)["argo-wf-1"], Flow(flow_name)[ran]
    assert by_argo.successful and by_argo.finished
    for name, value in expected.items():
        assert getattr(by_argo.data, name) == value, name
    assert _shape(by_argo) == _shape(by_run)
    for step in by_argo:
        indexes = [-1 if t.index is None else t.index for t in step]
        assert indexes == sorted(indexes, reverse=True)
    assert "runtime:argo-workflows" in by_argo.system_tags
