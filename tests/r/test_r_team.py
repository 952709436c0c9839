"""R steps on the team's stores: an R flow and a Python flow with R steps run on s3 + the
metadata service, and their results read back from Python and from R as another user."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from team.team_setups import team_env

pytestmark = [pytest.mark.r, pytest.mark.slow]


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.fixture
def alice(request, monkeypatch, client_state):
    """alice's environment on s3 + service; the in-process client reads as bob."""
    env = team_env(request, "s3+service", "alice")
    for k, v in team_env(request, "s3+service", "bob").items():
        monkeypatch.setenv(k, v)
    return env


def test_an_r_flow_on_s3_and_the_service_reads_back_as_another_user(run_r, alice, hw_root):
    _ok(run_r("hello.R", "run", "--alpha", "3", env_extra=alice))
    assert not (hw_root / "HelloFlow").exists()  # nothing under the local root

    from headwater import Flow, namespace

    namespace(None)
    run = Flow("HelloFlow").latest_run
    assert run.successful and run.user == "alice"
    assert run.data.y == 18.0
    frame = run.data.df
    assert frame["b"].isna().tolist() == [False, True]

    # The R client, as bob, reads alice's run from the same stores.
    script = (
        "library(headwater); set_namespace(NULL); "
        "run <- run_client$new(flow_client$new('HelloFlow'), 'latest_run'); "
        "cat(run$artifact('y'), run$artifact('stem'))"
    )
    assert _rscript(script) == "18 model"


def test_a_python_flow_with_r_steps_on_s3_and_the_service(run_flow, r_env, alice):
    flows = Path(__file__).resolve().parents[1] / "flows" / "r"
    _ok(run_flow(flows / "mixed_py.py", "run", env={**r_env, **alice}))

    from headwater import Flow, namespace

    namespace(None)
    run = Flow("MixedPyFlow").latest_run
    assert run.successful
    assert run["join"].task.data.squares == [1.0, 4.0, 9.0]
    assert run.data.total == 14.0


def _rscript(expr: str) -> str:
    """``Rscript -e expr`` in this process's environment (bob's; R_LIBS from r_env)."""
    done = subprocess.run(
        ["Rscript", "-e", expr], capture_output=True, text=True, env=dict(os.environ), timeout=120
    )
    _ok(done)
    return done.stdout
