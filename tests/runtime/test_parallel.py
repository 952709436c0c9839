"""@parallel and num_parallel: a gang of tasks started together, what each task knows of its
gang, the join receiving every task, and the control task in the client."""

from __future__ import annotations

import re

import pytest

from headwater import Flow, Task, namespace


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


def _pids(marks):
    return {p.stem: int(p.read_text()) for p in marks.glob("*.pid")}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_a_gang_retries_together_when_one_task_fails(run_flow, client, tmp_path, executor):
    marks = tmp_path / "marks"
    marks.mkdir()
    proc = run_flow(
        "parallel_retry_flow.py",
        "--with",
        "retry:times=1",
        "run",
        "--executor",
        executor,
        "--marks",
        str(marks),
    )
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    run = Flow("ParallelRetryFlow")[re.search(r"Run (\d+) of", proc.stderr).group(1)]
    assert sorted(_pids(marks)) == ["0-0", "0-1", "1-0", "1-1", "2-0", "2-1"]
    tasks = sorted(run["train"], key=lambda t: t.data.node)
    for task in tasks:
        # Every task of the gang ran twice, together; the first attempt of each failed.
        assert task.current_attempt == 1 and task.successful
        first = Task(task.pathspec, attempt=0)
        assert first.finished and not first.successful
    failing = Task(tasks[1].pathspec, attempt=0).exception
    assert failing.startswith("RuntimeError: node 1 fails on attempt 0")
    # Node 0 was stopped while it ran, node 2 after it succeeded: neither attempt counts.
    for node in (0, 2):
        stopped = Task(tasks[node].pathspec, attempt=0).exception
        assert stopped.startswith(f"Stopped: task train/{tasks[1].id} of this @parallel gang")
        assert "runs again" in stopped
    assert run["join"].task.data.nodes_seen == [0, 1, 2]


def test_a_gang_that_fails_for_good_fails_the_run_and_stops_every_task(run_flow, client, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    proc = run_flow("parallel_retry_flow.py", "run", "--marks", str(marks), "--fail", "always")
    assert proc.returncode == 1
    namespace(None)
    run = Flow("ParallelRetryFlow")[re.search(r"[Rr]un (\d+) of", proc.stderr).group(1)]
    tasks = {t.index: t for t in run["train"]}
    failing = tasks[1]
    # One line names the task that failed (the others were stopped, not counted).
    (error,) = [line for line in proc.stderr.splitlines() if "failed: task" in line]
    assert error.endswith(
        f"run {run.id} of ParallelRetryFlow failed: task {run.id}/train/{failing.id}: "
        "RuntimeError: node 1 fails on attempt 0"
    )
    assert "more tasks failed" not in proc.stderr
    pids = _pids(marks)
    assert sorted(pids) == ["0-0", "1-0", "2-0"]
    assert not [name for name, pid in pids.items() if _alive(pid)]
    for task in tasks.values():
        assert task.finished and not task.successful
    assert "Stopped: task" in tasks[0].exception and "the whole gang stops" in tasks[2].exception


def test_resume_after_a_gang_reuses_its_tasks_and_joins_them(run_flow, client):
    failed = run_flow("parallel_flow.py", "run", "--nodes", "3", env={"PARALLEL_FAIL_JOIN": "1"})
    assert failed.returncode == 1
    assert "the join fails (PARALLEL_FAIL_JOIN)" in failed.stderr
    origin = re.search(r"resume --origin-run-id (\S+)", failed.stderr).group(1)
    proc = run_flow("parallel_flow.py", "resume", "--origin-run-id", origin)
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    run = Flow("ParallelFlow").latest_run
    assert run.id != origin and run.successful
    train = sorted(run["train"], key=lambda t: t.data.node)
    assert [t.data.node for t in train] == [0, 1, 2]
    assert all(
        t.origin_pathspec and t.origin_pathspec.startswith(f"ParallelFlow/{origin}/") for t in train
    )
    assert run["join"].task.data.nodes_seen == [0, 1, 2]
