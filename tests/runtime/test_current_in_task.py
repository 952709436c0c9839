"""`current` inside running tasks: every fact of API.md section 3, with both executors."""

from __future__ import annotations

import os
import platform
import re

import pytest

from headwater.client import Run, namespace


def _run_id(proc) -> str:
    m = re.search(r"Run (\d+) of \w+ completed|run (\d+) of \w+ failed", proc.stderr)
    assert m, proc.stderr
    return m.group(1) or m.group(2)


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_current_in_every_step(run_flow, client, executor):
    proc = run_flow("current_flow.py", "run", "--executor", executor, "--tag", "mine")
    assert proc.returncode == 0, proc.stderr
    run_id = _run_id(proc)
    namespace(None)
    run = Run(f"CurrentFlow/{run_id}")
    tags = sorted(
        ["mine", "runtime:dev", "user:tester", f"python_version:{platform.python_version()}"]
    )
    for step in ("start", "retried", "end"):
        task = run[step].task
        seen = task.data.seen
        pathspec = f"CurrentFlow/{run_id}/{step}/{task.id}"
        assert seen.pop("tempdir_is_dir") is True
        tempdir = seen.pop("tempdir")
        assert not os.path.exists(tempdir), "the task's tempdir is removed after the task"
        assert seen == {
            "flow_name": "CurrentFlow",
            "run_id": run_id,
            "step_name": step,
            "task_id": task.id,
            "retry_count": 1 if step == "retried" else 0,
            "origin_run_id": None,
            "pathspec": pathspec,
            "namespace": "user:tester",
            "username": "tester",
            "tags": ["mine"],  # the user tags, as in Metaflow; the run has them all
            "parameter_names": ["alpha", "beta"],
            "is_running_flow": True,
            "graph_steps": ["end", "retried", "start"],
            "run": ("Run", f"CurrentFlow/{run_id}", tags),
            "task": ("Task", pathspec),
        }


def test_origin_run_id_is_set_on_resume(run_flow, client):
    failed = run_flow("current_flow.py", "run", env={"CURRENT_FLOW_FAIL": "1"})
    assert failed.returncode == 1
    origin = _run_id(failed)
    resumed = run_flow("current_flow.py", "resume")
    assert resumed.returncode == 0, resumed.stderr
    new = _run_id(resumed)
    namespace(None)
    seen = Run(f"CurrentFlow/{new}").data.seen
    assert seen["origin_run_id"] == origin
    assert seen["run_id"] == new
    assert seen["step_name"] == "end"
