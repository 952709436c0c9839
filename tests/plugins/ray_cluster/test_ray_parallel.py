"""@parallel gangs on a real local Ray cluster (2 CPUs): placed whole through a placement
group, joined, retried together, and refused at once when the cluster is too small."""

from __future__ import annotations

import re

import pytest

from headwater import Flow, Task, metadata, namespace

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def _run(proc):
    m = re.search(r"[Rr]un (\d+) of ParallelRetryFlow", proc.stderr)
    assert m, proc.stderr
    return Flow("ParallelRetryFlow")[m.group(1)]


def test_a_gang_runs_on_ray_and_retries_together(run_flow, hw_root, ray_env, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    args = ("--with", "retry:times=1", "run", "--executor", "ray", "--nodes", "2")
    proc = run_flow("parallel_retry_flow.py", *args, "--marks", str(marks), env=ray_env)
    assert proc.returncode == 0, proc.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    run = _run(proc)
    # Both tasks of the gang ran twice (the first attempt failed, in node 1), together.
    assert sorted(p.stem for p in marks.glob("*.pid")) == ["0-0", "0-1", "1-0", "1-1"]
    tasks = sorted(run["train"], key=lambda t: t.data.node)
    assert [t.current_attempt for t in tasks] == [1, 1]
    assert not Task(tasks[0].pathspec, attempt=0).successful
    assert Task(tasks[0].pathspec, attempt=0).exception.startswith("Stopped: task train/")
    join = run["join"].task.data
    assert join.nodes_seen == [0, 1]
    assert join.main_ips == ["127.0.0.1"]  # the node running the control task
    # Each attempt's placement group holds both of the cluster's CPUs: the retry's group, and
    # then the join and end tasks, could only be placed because the group before was removed.


def test_a_gang_bigger_than_the_cluster_fails_at_once(run_flow, hw_root, ray_env, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    args = ("run", "--executor", "ray", "--nodes", "3", "--marks", str(marks))
    proc = run_flow("parallel_retry_flow.py", *args, env=ray_env)
    assert proc.returncode == 1
    (error,) = [line for line in proc.stderr.splitlines() if "failed: task" in line]
    assert error.endswith(
        "@parallel step 'train' needs 3 tasks of 1 CPUs on Ray, 3 in all, more than the whole "
        "cluster has (2): lower num_parallel or the step's resources, or add nodes"
    )
    assert not list(marks.glob("*.pid"))  # no task of the gang started


def test_a_gang_of_two_fills_the_cluster_and_joins(run_flow, hw_root, ray_env):
    proc = run_flow("parallel_flow.py", "run", "--executor", "ray", "--nodes", "2", env=ray_env)
    assert proc.returncode == 0, proc.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Flow("ParallelFlow")[re.search(r"Run (\d+) of", proc.stderr).group(1)]
    tasks = sorted(run["train"], key=lambda t: t.data.node)
    control = tasks[0]
    assert [t.data.num_nodes for t in tasks] == [2, 2]
    assert all(t.data.control == control.id and t.data.is_parallel for t in tasks)
    assert tasks[1].data.env == {
        "MF_PARALLEL_MAIN_IP": "127.0.0.1",  # the node of the control task
        "MF_PARALLEL_NUM_NODES": "2",
        "MF_PARALLEL_NODE_INDEX": "1",
        "MF_PARALLEL_CONTROL_TASK_ID": control.id,
    }
    assert run["join"].task.data.nodes_seen == [0, 1]
