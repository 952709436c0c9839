"""The team setup: every graph shape under every executor, on a shared datastore and the
metadata service, read back by the client as another process would; commands (dump, logs,
tag, resume, card) and the Runner work on it too."""

from __future__ import annotations

import os
import pickle
import re

import pytest
from team_setups import SETUPS, team_env

from graph_shapes import SHAPES
from graph_shapes import expected_of as _expected
from headwater import Flow, Run, metadata, namespace

pytestmark = pytest.mark.slow


# Every local executor on every setup; Ray (tasks on a real local head) on s3 + service.
EXECUTORS_AND_SETUPS = [(e, s) for e in ("fork", "subprocess") for s in SETUPS] + [
    pytest.param("ray", "s3+service", marks=pytest.mark.ray, id="ray-s3+service")
]


@pytest.mark.parametrize(("executor", "setup"), EXECUTORS_AND_SETUPS)
@pytest.mark.parametrize("flow_file", SHAPES, ids=[p.stem for p in SHAPES])
def test_shape_on_the_team_stores(flow_file, executor, setup, request, run_flow, tmp_path):
    env = team_env(request, setup, "alice")
    if executor == "ray":
        env.update(request.getfixturevalue("ray_env"))
    flow_name, expected = _expected(flow_file)
    proc = run_flow(flow_file, "run", "--executor", executor, env=env)
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\S+) of " + flow_name + " completed", proc.stderr).group(1)

    with _settings(env):
        metadata("service")
        namespace(None)
        run = Flow(flow_name)[run_id]
        assert run.successful and run.finished
        for name, value in expected.items():
            assert getattr(run.data, name) == value, name
        assert run.code is not None and run.code.flowspec == flow_file.read_text()

    out = tmp_path / "dump.pkl"
    proc = run_flow(flow_file, "dump", f"{run_id}/end", "--file", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    (values,) = pickle.loads(out.read_bytes()).values()
    for name, value in expected.items():
        assert values[name] == value, name


class _settings:
    """The test process's environment, as a team member's shell would have it."""

    def __init__(self, env: dict) -> None:
        self.env = env
        self.saved: dict = {}

    def __enter__(self):
        from headwater.client import provider

        self.saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        provider._connections.clear()
        return self

    def __exit__(self, *exc):
        from headwater.client import provider

        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        provider._connections.clear()
        provider._explicit = None


@pytest.mark.parametrize("setup", SETUPS)
def test_commands_and_the_client_work_on_the_team_stores(setup, request, run_flow, tmp_path):
    env = team_env(request, setup, "alice")
    proc = run_flow("output_flow.py", "run", "--tag", "team", env=env)
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\S+) of OutputFlow completed", proc.stderr).group(1)
    logs = run_flow("output_flow.py", "logs", f"{run_id}/start", "--stdout", env=env)
    assert logs.returncode == 0 and logs.stdout.strip(), logs.stderr
    tag = run_flow("output_flow.py", "tag", "add", "--run-id", run_id, "reviewed", env=env)
    assert tag.returncode == 0, tag.stderr
    with _settings(env):
        metadata("service")
        run = Run(f"OutputFlow/{run_id}")
        assert {"team", "reviewed"} <= run.user_tags
        assert run["start"].task.stdout == logs.stdout
