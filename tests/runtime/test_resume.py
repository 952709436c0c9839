"""`resume`: finished tasks are cloned (no user code, no bytes copied), the rest runs again."""

from __future__ import annotations

import re

import pytest

from headwater import Flow, metadata, namespace
from headwater.metadata_store.sqlite import SqliteMetadata

TOTAL = 66


def _run_id(proc) -> str:
    m = re.search(r"Run (\d+) of \w+ completed|run (\d+) of \w+ failed", proc.stderr)
    assert m, proc.stderr
    return m.group(1) or m.group(2)


def _tasks(root, flow, run_id):
    return SqliteMetadata(root / "metadata.db").list_tasks(flow, run_id)


def _blob_count(root, flow):
    return sum(1 for p in (root / flow / "blobs").rglob("*") if p.is_file())


FAIL_POINTS = ["start", "a", "join_ab", "outer:1", "inner:11", "join_inner", "join_outer", "end"]
FAST_POINTS = {"a", "inner:11", "end"}  # the rest are in the slow tier
CASES = [
    pytest.param("fork", f, marks=() if f in FAST_POINTS else pytest.mark.slow) for f in FAIL_POINTS
] + [("subprocess", "inner:11"), ("subprocess", "end")]


@pytest.mark.parametrize(("executor", "fail_at"), CASES)
def test_resume_after_failure_clones_what_finished(run_flow, hw_root, fail_at, executor):
    failed = run_flow("resumable_flow.py", "run", "--executor", executor, env={"FAIL_AT": fail_at})
    assert failed.returncode == 1
    origin = _run_id(failed)
    assert f"resume --origin-run-id {origin}" in failed.stderr
    succeeded_before = [
        t for t in _tasks(hw_root, "ResumableFlow", origin) if t.status.value == "succeeded"
    ]

    resumed = run_flow("resumable_flow.py", "resume", "--executor", executor)
    assert resumed.returncode == 0, resumed.stderr
    new = _run_id(resumed)
    tasks = _tasks(hw_root, "ResumableFlow", new)
    cloned = [t for t in tasks if t.origin_pathspec]
    # Every task that succeeded in the origin run was cloned, and only those.
    assert sorted(t.origin_pathspec for t in cloned) == sorted(t.pathspec for t in succeeded_before)
    # The failed task itself ran again.
    step = fail_at.split(":")[0]
    assert any(t.step == step and not t.origin_pathspec for t in tasks)

    metadata(f"local@{hw_root}")
    namespace(None)
    run = Flow("ResumableFlow")[new]
    assert run.successful
    assert run.data.total == TOTAL
    assert run.origin_pathspec == f"ResumableFlow/{origin}"
    # Lineage is visible in the client, and cloned artifacts are the origin's own values.
    start = run["start"].task
    assert start.data.ran == {"start": origin if step != "start" else new}
    # Re-run tasks know which run they resume.
    inner = [t for t in run["inner"] if not t.origin_pathspec]
    assert all(t.data.origin_seen == origin for t in inner)


def test_resume_from_a_given_step_reruns_it_and_what_follows(run_flow, hw_root):
    first = run_flow("resumable_flow.py", "run")
    assert first.returncode == 0, first.stderr
    origin = _run_id(first)
    blobs = _blob_count(hw_root, "ResumableFlow")
    resumed = run_flow("resumable_flow.py", "resume", "fan", "--origin-run-id", origin)
    assert resumed.returncode == 0, resumed.stderr
    tasks = _tasks(hw_root, "ResumableFlow", _run_id(resumed))
    assert sorted(t.step for t in tasks if t.origin_pathspec) == ["a", "b", "join_ab", "start"]
    assert all(not t.origin_pathspec for t in tasks if t.step not in ("a", "b", "join_ab", "start"))
    metadata(f"local@{hw_root}")
    namespace(None)
    inner = Flow("ResumableFlow")[_run_id(resumed)]["inner"]
    assert {t.data.origin_seen for t in inner} == {origin}
    # Cloning copied no artifact bytes: the same values were stored once.
    assert _blob_count(hw_root, "ResumableFlow") == blobs + 1  # one new: origin_seen == origin


def test_resume_of_a_resume_continues_from_the_latest_attempt(run_flow, hw_root):
    first = run_flow("resumable_flow.py", "run", env={"FAIL_AT": "inner:11"})
    assert first.returncode == 1
    second = run_flow("resumable_flow.py", "resume", env={"FAIL_AT": "join_outer"})
    assert second.returncode == 1
    second_id = _run_id(second)
    third = run_flow("resumable_flow.py", "resume")
    assert third.returncode == 0, third.stderr
    assert f"Resuming ResumableFlow run {second_id} as run" in third.stderr
    tasks = _tasks(hw_root, "ResumableFlow", _run_id(third))
    # Only the step that failed last time (and what follows it) ran again.
    assert sorted(t.step for t in tasks if not t.origin_pathspec) == ["end", "join_outer"]


def test_resume_with_one_failed_split_runs_only_that_split(run_flow, hw_root):
    width = "300"
    failed = run_flow(
        "workers_flow.py",
        "run",
        "--width",
        width,
        "--max-num-splits",
        width,
        env={"FAIL_INDEX": "137"},
    )
    assert failed.returncode == 1
    resumed = run_flow("workers_flow.py", "resume", "--max-num-splits", width)
    assert resumed.returncode == 0, resumed.stderr
    assert re.search(r"completed: 3 tasks run and 300 cloned", resumed.stderr), resumed.stderr
    tasks = _tasks(hw_root, "WorkersFlow", _run_id(resumed))
    rerun = sorted((t.step, t.foreach_index) for t in tasks if not t.origin_pathspec)
    assert rerun == [("end", None), ("join", None), ("work", 137)]


def test_parameters_come_from_the_origin_run(run_flow, hw_root):
    failed = run_flow("decorated_flow.py", "run", "--mode", "raise")
    assert failed.returncode == 1
    resumed = run_flow("decorated_flow.py", "resume", env={"FAILMODE_FIXED": "1"})
    assert resumed.returncode == 0, resumed.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Flow("DecoratedFlow")[_run_id(resumed)]
    assert run.data.mode == "raise"
    assert run.data.final == "ok"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["resume", "nosuchstep"], "DecoratedFlow has no step 'nosuchstep' to resume from"),
        (["resume", "--origin-run-id", "99"], "run 99 of DecoratedFlow not found"),
        (["resume"], "DecoratedFlow has no run by user tester to resume"),
        (["resume", "--mode", "x"], "resume takes parameters from the origin run"),
    ],
)
def test_resume_errors(run_flow, hw_root, args, message):
    hw_root.mkdir(parents=True, exist_ok=True)
    proc = run_flow("decorated_flow.py", *args)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_resume_inside_a_switch_loop(run_flow, hw_root):
    failed = run_flow("resumable_loop_flow.py", "run", env={"FAIL_AT": "increment:3"})
    assert failed.returncode == 1
    resumed = run_flow("resumable_loop_flow.py", "resume")
    assert resumed.returncode == 0, resumed.stderr
    tasks = _tasks(hw_root, "ResumableLoopFlow", _run_id(resumed))
    # Two turns of the loop were cloned; the third increment and what follows ran again.
    cloned = [t.step for t in tasks if t.origin_pathspec]
    assert cloned == ["start", "increment", "check", "increment", "check"]
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Flow("ResumableLoopFlow")[_run_id(resumed)]
    assert run.data.history == [1, 2, 3, 4]


def test_resume_of_a_run_killed_before_its_first_task(run_flow, hw_root):
    from headwater.metadata_store.sqlite import SqliteMetadata

    assert run_flow("linear.py", "run").returncode == 0
    # A run record whose runtime died before saving the parameters (a kill -9 at launch).
    md = SqliteMetadata(hw_root / "metadata.db")
    md.create_run("LinearFlow", "tester", system_tags=["user:tester"])
    proc = run_flow("linear.py", "resume")
    assert proc.returncode == 1
    assert "run 2 of LinearFlow stopped before its first task started" in proc.stderr


def test_resuming_a_run_that_completed_says_nothing_runs_again(run_flow, hw_root):
    done = run_flow("decorated_flow.py", "run", "--mode", "none")
    assert done.returncode == 0, done.stderr
    origin = _run_id(done)
    n_tasks = len(_tasks(hw_root, "DecoratedFlow", origin))
    resumed = run_flow("decorated_flow.py", "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert (
        f"Run {origin} of DecoratedFlow completed: nothing failed, so nothing runs again and "
        f"every task is cloned (to run a step again: python decorated_flow.py resume STEP "
        f"--origin-run-id {origin})"
    ) in resumed.stderr
    new = re.search(r"as run (\d+)", resumed.stderr).group(1)
    assert (
        f"Run {new} of DecoratedFlow completed: nothing ran again, {n_tasks} tasks cloned in "
        in (resumed.stderr)
    )
    assert all(t.origin_pathspec for t in _tasks(hw_root, "DecoratedFlow", new))


def test_resumed_tasks_carry_metaflows_origin_metadata(run_flow, hw_root, client_state):
    failed = run_flow("resumable_flow.py", "run", env={"FAIL_AT": "end"})
    origin = _run_id(failed)
    resumed = run_flow("resumable_flow.py", "resume")
    assert resumed.returncode == 0, resumed.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Flow("ResumableFlow")[_run_id(resumed)]
    origin_run = Flow("ResumableFlow")[origin]
    for step in run:
        assert step.origin_pathspec == f"ResumableFlow/{origin}/{step.id}"
        for task in step:
            meta = task.metadata_dict
            assert meta["origin-run-id"] == origin
            if step.id == "end":  # ran again: no origin task
                assert "origin-task-id" not in meta
                continue
            # A cloned task has its origin's metadata, plus where it came from.
            original = origin_run[step.id][meta["origin-task-id"]].metadata_dict
            skip = {"origin-run-id", "origin-task-id"}
            assert {k: v for k, v in meta.items() if k not in skip} == {
                k: v for k, v in original.items() if k not in skip
            }
            assert task.origin_pathspec == (
                f"ResumableFlow/{origin}/{step.id}/{meta['origin-task-id']}"
            )
            assert meta["python_version"] and meta["attempt"] == "0"
