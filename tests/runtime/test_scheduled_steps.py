"""Tasks with no runtime: `init` and `step --run-id ...` as a production scheduler runs them.

Every graph shape, walked one `step` command at a time (scheduler_walker.py), reads back as
the same run `run` makes; tasks register themselves idempotently, retry with the scheduler,
report their outcome in their exit code, and keep their logs and results in the datastore.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from scheduler_walker import Walk

from graph_shapes import SHAPES
from graph_shapes import expected_of as _expected
from headwater import Flow, Run, Task, metadata, namespace
from headwater.core.ids import AttemptPath
from headwater.metadata_store.records import RunStatus
from headwater.stores import open_datastore

FLOWS = Path(__file__).resolve().parent.parent / "flows"


def _walk(flow_file: Path, hw_root: Path) -> Walk:
    flow_name, _ = _expected(flow_file) if "EXPECTED" in flow_file.read_text() else (None, None)
    env = dict(os.environ, PYTHONPATH=str(FLOWS))
    return Walk(flow_file, flow_name, hw_root, env, hw_root.parent)


def _shape(run) -> list:
    """What a run looks like through the client: its steps, and each task's foreach index and
    public artifact names (the join inputs' order shows in the EXPECTED values)."""
    out = []
    for step in run:
        tasks = sorted((-1 if t.index is None else t.index, sorted(a.id for a in t)) for t in step)
        out.append((step.id, tasks))
    return sorted(out)


@pytest.mark.parametrize("flow_file", SHAPES, ids=[p.stem for p in SHAPES])
def test_every_shape_walked_step_by_step_reads_back_like_run(flow_file, run_flow, hw_root):
    flow_name, expected = _expected(flow_file)
    made = run_flow(flow_file, "run")
    assert made.returncode == 0, made.stderr
    walk = Walk(flow_file, flow_name, hw_root, dict(os.environ), hw_root.parent)
    walk.run("walked-1")

    metadata(f"local@{hw_root}")
    namespace(None)
    walked, ran = Flow(flow_name)["walked-1"], Flow(flow_name)["1"]
    assert walked.successful and walked.finished
    for name, value in expected.items():
        assert getattr(walked.data, name) == value, name
    assert _shape(walked) == _shape(ran)
    for step in walked:  # a step's tasks list in foreach order (newest, i.e. last, first)
        indexes = [-1 if t.index is None else t.index for t in step]
        assert indexes == sorted(indexes, reverse=True)
    assert "runtime:scheduled" in walked.system_tags
    # every task id was derived, none allocated
    assert all(t.id.startswith("t-") for s in walked for t in s)


def test_steps_are_idempotent_and_ids_are_stable(hw_root):
    walk = _walk(FLOWS / "foreach.py", hw_root)
    walk.run("r1")
    again = walk.command("init", "--run-id", "r1")
    assert "initialized already" in again.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Run("ForeachFlow/r1")
    start = run["start"].task
    squares = {t.index: t.id for t in run["square"]}
    # A retried pod runs the same step again: same task, a new attempt, nothing duplicated.
    proc = walk.command(
        "step", "square", "--run-id", "r1", "--input-paths", f"start/{start.id}",
        "--split-index", "1", "--retry-count", "1",
    )  # fmt: skip
    assert f"[r1/square/{squares[1]}] Task finished successfully" in proc.stderr
    run = Run("ForeachFlow/r1")
    assert {t.index: t.id for t in run["square"]} == squares
    assert run["square"][squares[1]].current_attempt == 1
    # The same run under another id gets the same structure but other task ids.
    walk.run("r2")
    other = {t.index: t.id for t in Run("ForeachFlow/r2")["square"]}
    assert set(other.values()).isdisjoint(squares.values())


def test_a_scheduler_retries_a_failing_task_until_it_succeeds(hw_root, tmp_path):
    counter = tmp_path / "attempts.txt"
    walk = _walk(FLOWS / "decorated_flow.py", hw_root)
    walk.flow = "DecoratedFlow"
    walk.run("r", params=("--fail-times", "2", "--counter", str(counter)), retries={"middle": 3})
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Run("DecoratedFlow/r")
    assert run.successful and run.data.final == "ok"
    middle = run["middle"].task
    assert middle.current_attempt == 2
    attempts = [line.split() for line in counter.read_text().splitlines()]
    assert attempts == [["start", "0"], ["middle", "0"], ["middle", "1"], ["middle", "2"]] or (
        attempts == [["middle", "0"], ["middle", "1"], ["middle", "2"]]
    )
    first = Run("DecoratedFlow/r")["middle"]
    assert (
        "ValueError: failure in attempt 0"
        in Task(f"{first.pathspec}/{middle.id}", attempt=0).stderr
    )


def _middle(walk, run_id, start_id, attempt, *extra):
    return walk.command(
        "step", "middle", "--run-id", run_id, "--input-paths", f"start/{start_id}",
        "--retry-count", str(attempt), *extra, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "code", "headline"),
    [
        ("raise", 1, "ValueError: failure in attempt 0"),
        ("noretry", 202, "DoNotRetry: this input can never work"),
        ("segfault", 1, "TaskDied: the task process was killed by SIGSEGV"),
        ("exit", 1, "TaskDied: the task process exited with code 3"),
    ],
)
def test_the_exit_code_and_records_say_how_a_task_ended(hw_root, tmp_path, mode, code, headline):
    walk = _walk(FLOWS / "decorated_flow.py", hw_root)
    walk.command("init", "--run-id", "r", "--mode", mode, "--counter", str(tmp_path / "c"))
    start = walk.command("step", "start", "--run-id", "r")
    start_id = re.search(r"\[r/start/(t-[0-9a-f]+)\]", start.stderr).group(1)
    # Not the last attempt (the scheduler will retry): the run stays running.
    proc = _middle(walk, "r", start_id, 0, "--max-user-code-retries", "1")
    assert proc.returncode == code, proc.stderr
    assert headline in proc.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    task = Run("DecoratedFlow/r")["middle"].task
    assert not task.successful and task.current_attempt == 0
    assert headline in str(task.exception)
    expect_run = RunStatus.FAILED if code == 202 else RunStatus.RUNNING
    assert Run("DecoratedFlow/r")._run_record.status is expect_run
    # The last attempt fails the run.
    proc = _middle(walk, "r", start_id, 1, "--max-user-code-retries", "1")
    assert proc.returncode == code
    assert Run("DecoratedFlow/r")._run_record.status is RunStatus.FAILED


def test_a_scheduled_task_keeps_its_logs_and_result_in_the_datastore(hw_root):
    walk = _walk(FLOWS / "output_flow.py", hw_root)
    walk.flow = "OutputFlow"
    walk.run("r")
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Run("OutputFlow/r")
    start = run["start"].task
    assert start.stdout and start.stdout in walk.outputs[1].stdout  # also echoed for the scheduler
    logs = walk.command("logs", f"r/start/{start.id}")
    assert start.stdout.strip().splitlines()[0] in logs.stdout
    ds = open_datastore("local", str(hw_root))
    result = ds.read_result(AttemptPath("OutputFlow", "r", "start", start.id, 0))
    assert result and b'"ok":true' in result


def test_timeout_stops_a_scheduled_task(hw_root, tmp_path):
    flow = tmp_path / "slow_flow.py"
    flow.write_text(
        "import time\n"
        "from headwater import FlowSpec, step, timeout\n"
        "class SlowFlow(FlowSpec):\n"
        "    @timeout(seconds=1)\n"
        "    @step\n"
        "    def start(self):\n"
        "        time.sleep(60)\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    SlowFlow()\n"
    )
    walk = Walk(flow, "SlowFlow", hw_root, dict(os.environ), hw_root.parent)
    walk.command("init", "--run-id", "r")
    proc = walk.command("step", "start", "--run-id", "r", check=False)
    assert proc.returncode == 1
    assert "timed out after 1 s" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["step", "start", "--run-id", "nope"], "has not been initialized"),
        (["step", "square", "--run-id", "r"], "needs --input-paths"),
        (["step", "square", "--run-id", "r", "--input-paths", "start/t-000000000000"],
         "does not exist"),
        (["step", "nostep", "--run-id", "r"], "has no step 'nostep'"),
        (["step", "square", "--run-id", "r", "--input-paths", "a/b/c/d"], "RUN/STEP/TASK"),
        (["step", "start"], "needs --run-id"),
    ],
)  # fmt: skip
def test_a_task_that_cannot_start_says_why_in_one_line(hw_root, args, message):
    walk = _walk(FLOWS / "foreach.py", hw_root)
    walk.command("init", "--run-id", "r")
    proc = walk.command(*args, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_foreach_split_needs_its_index(hw_root):
    walk = _walk(FLOWS / "foreach.py", hw_root)
    walk.command("init", "--run-id", "r")
    start = walk.command("step", "start", "--run-id", "r")
    start_id = re.search(r"\[r/start/(t-[0-9a-f]+)\]", start.stderr).group(1)
    for extra in ([], ["--split-index", "3"]):
        proc = walk.command(
            "step", "square", "--run-id", "r", "--input-paths", f"start/{start_id}", *extra,
            check=False,
        )  # fmt: skip
        assert proc.returncode == 1 and "pass --split-index 0..2" in proc.stderr


def test_run_code_reads_the_package_back(run_flow, hw_root, tmp_path):
    assert run_flow("linear.py", "run").returncode == 0
    assert run_flow("linear.py", "run").returncode == 0
    metadata(f"local@{hw_root}")
    namespace(None)
    code = Run("LinearFlow/1").code
    assert code.flowspec == (FLOWS / "linear.py").read_text()
    assert code.info["flow_file"] == "linear.py"
    names = code.tarball.getnames()
    assert "linear.py" in names and "failmode.py" in names and "INFO" in names
    assert not any(n.endswith(".pyc") or "__pycache__" in n for n in names)
    out = Path(code.extract(tmp_path / "unpacked"))
    assert (out / "linear.py").read_text() == code.flowspec
    # unchanged code is stored once; a task reads its run's package
    assert Run("LinearFlow/2").code.path == code.path
    assert Run("LinearFlow/2")["end"].task.code.path == code.path
    assert code.path.startswith(str(hw_root))


def test_package_suffixes_add_files(run_flow, hw_root, tmp_path):
    flow = tmp_path / "proj" / "flow.py"
    flow.parent.mkdir()
    (flow.parent / "lookup.csv").write_text("a,b\n")
    (flow.parent / "notes.md").write_text("not packaged")
    (flow.parent / ".hidden").mkdir()
    (flow.parent / ".hidden" / "x.py").write_text("")
    flow.write_text((FLOWS / "linear.py").read_text())
    proc = run_flow(flow, "--package-suffixes", ".csv", "run")
    assert proc.returncode == 0, proc.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    names = Run("LinearFlow/1").code.tarball.getnames()
    assert sorted(names) == ["INFO", "flow.py", "lookup.csv"]


def test_a_run_made_in_a_notebook_cell_has_no_code_package():
    from headwater.runtime.launch import save_code_package

    cls = type("CellFlow", (), {"__module__": "__main__"})
    saved = sys.modules["__main__"].__dict__.get("__file__")
    try:
        sys.modules["__main__"].__file__ = "<stdin>"
        assert save_code_package(None, cls) is None
    finally:
        if saved is not None:
            sys.modules["__main__"].__file__ = saved
