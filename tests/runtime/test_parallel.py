"""@parallel and num_parallel: a gang of tasks started together, what each task knows of its
gang, the join receiving every task, and the control task in the client."""

from __future__ import annotations

import re

import pytest

from headwater import Flow, namespace


def _run(run_flow, *args):
    proc = run_flow("parallel_flow.py", "run", *args)
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    return Flow("ParallelFlow")[re.search(r"Run (\d+) of", proc.stderr).group(1)]


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_a_gang_of_tasks_joined_together(run_flow, client, executor):
    run = _run(run_flow, "--executor", executor, "--nodes", "4")
    tasks = sorted(run["train"], key=lambda t: t.data.node)
    assert [t.data.node for t in tasks] == [0, 1, 2, 3]
    control = tasks[0]
    assert all(t.data.num_nodes == 4 for t in tasks)
    assert all(t.data.control == control.id for t in tasks)
    assert all(t.data.same_input and t.data.is_parallel for t in tasks)
    assert all(t.data.main_ip == "127.0.0.1" for t in tasks)
    assert tasks[2].data.env == {
        "MF_PARALLEL_MAIN_IP": "127.0.0.1",
        "MF_PARALLEL_NUM_NODES": "4",
        "MF_PARALLEL_NODE_INDEX": "2",
        "MF_PARALLEL_CONTROL_TASK_ID": control.id,
    }
    assert run["start"].task.data.before == 1
    join = run["join"].task.data
    assert join.nodes_seen == [0, 1, 2, 3] and join.controls == [control.id]
    assert [t.id for t in run["train"].control_tasks()] == [control.id]
    assert control.metadata_dict["internal_task_type"] == "control_task"
    assert "internal_task_type" not in tasks[1].metadata_dict


def test_workers_start_with_their_control_task_beyond_max_workers(run_flow, client, tmp_path):
    # One worker slot, and every node waits for all the others: the gang still runs together.
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    run = _run(run_flow, "--max-workers", "1", "--nodes", "3", "--barrier", str(barrier))
    assert sorted(t.data.node for t in run["train"]) == [0, 1, 2]


def test_workers_need_not_call_self_next(run_flow, client):
    run = _run(run_flow, "--workers_return", "true")
    assert run["join"].task.data.nodes_seen == [0, 1, 2]


def test_num_parallel_must_be_a_positive_number(run_flow, hw_root):
    proc = run_flow("parallel_flow.py", "run", "--nodes", "0")
    assert proc.returncode == 1
    assert "num_parallel=0" in proc.stderr and "at least 1" in proc.stderr


def test_catch_on_a_gang_keeps_the_failure_in_the_control_task(run_flow, client):
    proc = run_flow("parallel_catch_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    run = Flow("ParallelCatchFlow")[re.search(r"Run (\d+) of", proc.stderr).group(1)]
    (control,) = run["train"].control_tasks()
    attempts = {
        t.id: sorted(m.value for m in t.metadata if m.name == "attempt") for t in run["train"]
    }
    # The control task: two attempts and the one that records the failure for @catch;
    # each worker: its two attempts, then it is left out.
    assert attempts.pop(control.id) == ["0", "1", "2"]
    assert list(attempts.values()) == [["0", "1"], ["0", "1"]]
    assert run["join"].task.data.errors == ["headwater.exceptions.TaskDied"]
