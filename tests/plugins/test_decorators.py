"""@retry, @catch and @timeout, alone and combined, on linear, branch and foreach flows,
under both executors; results checked through the client."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from headwater import Flow, Task, metadata, namespace
from headwater.core.caught import CaughtException

SHAPES = {
    "linear": ("decorated_flow.py", "DecoratedFlow"),
    "branch": ("decorated_branch_flow.py", "DecoratedBranchFlow"),
    "foreach": ("decorated_foreach_flow.py", "DecoratedForeachFlow"),
}
RETRY2 = "retry:times=2,minutes_between_retries=0"


def _run(run_flow, hw_root, shape, executor, withs, *params):
    file, name = SHAPES[shape]
    counter = hw_root.parent / "attempts.txt"
    args = []
    for w in withs:
        args += ["--with", w]
    proc = run_flow(file, *args, "run", "--executor", executor, "--counter", str(counter), *params)
    metadata(f"local@{hw_root}")
    namespace(None)
    m = re.search(r"[Rr]un (\d+) of", proc.stderr)
    assert m, proc.stderr
    run = Flow(name)[m.group(1)]
    attempts = [int(line.split()[1]) for line in counter.read_text().splitlines()]
    return proc, run, attempts


def _middle(run):
    tasks = list(run["middle"])
    if len(tasks) == 1:
        return tasks[0]
    return next(t for t in tasks if t.index == 1)


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
@pytest.mark.parametrize("shape", list(SHAPES))
class TestDecoratorMatrix:
    def test_retry_until_success(self, run_flow, hw_root, shape, executor):
        proc, run, attempts = _run(
            run_flow, hw_root, shape, executor, [RETRY2], "--fail-times", "2"
        )
        assert proc.returncode == 0, proc.stderr
        assert attempts == [0, 1, 2]
        assert run.successful
        task = _middle(run)
        assert task.current_attempt == 2
        # The successful attempt is shown by default; failed attempts keep their own data.
        assert task.data.leak == "attempt 2"
        first = Task(task.pathspec, attempt=0)
        assert first.data.leak == "attempt 0"
        assert not first.successful
        assert "ValueError: failure in attempt 0" in first.exception
        assert task.exception is None
        assert run.data.final == "ok"

    def test_catch_keeps_the_exception_and_the_flow_goes_on(
        self, run_flow, hw_root, shape, executor
    ):
        proc, run, attempts = _run(run_flow, hw_root, shape, executor, ["catch:var=err"])
        assert proc.returncode == 0, proc.stderr
        assert attempts == [0]
        assert run.successful
        err = _middle(run).data.err
        assert isinstance(err, CaughtException)
        assert (err.type, err.message) == ("ValueError", "failure in attempt 0")
        assert "Traceback" in err.traceback
        assert run.data.final is None
        assert "@catch kept it in self.err" in proc.stderr

    def test_retry_then_catch(self, run_flow, hw_root, shape, executor):
        proc, run, attempts = _run(
            run_flow,
            hw_root,
            shape,
            executor,
            ["retry:times=1,minutes_between_retries=0", "catch:var=err"],
        )
        assert proc.returncode == 0, proc.stderr
        assert attempts == [0, 1]
        assert _middle(run).data.err.message == "failure in attempt 1"

    def test_catch_after_a_hard_death(self, run_flow, hw_root, shape, executor):
        proc, run, _ = _run(
            run_flow, hw_root, shape, executor, ["catch:var=err"], "--mode", "segfault"
        )
        assert proc.returncode == 0, proc.stderr
        err = _middle(run).data.err
        assert err.type == "headwater.exceptions.TaskDied" and "SIGSEGV" in err.message

    @pytest.mark.slow  # waits for a timeout or a retry
    def test_timeout_then_retry(self, run_flow, hw_root, shape, executor):
        proc, run, attempts = _run(
            run_flow,
            hw_root,
            shape,
            executor,
            ["timeout:seconds=1", "retry:times=1,minutes_between_retries=0"],
            "--mode",
            "sleep",
            "--fail-times",
            "1",
        )
        assert proc.returncode == 0, proc.stderr
        assert attempts == [0, 1]
        first = Task(_middle(run).pathspec, attempt=0)
        assert "step 'middle' timed out after 1 s" in first.exception

    @pytest.mark.slow  # waits for a timeout or a retry
    def test_timeout_then_catch(self, run_flow, hw_root, shape, executor):
        proc, run, _ = _run(
            run_flow,
            hw_root,
            shape,
            executor,
            ["timeout:seconds=1", "catch:var=err"],
            "--mode",
            "sleep",
        )
        assert proc.returncode == 0, proc.stderr
        err = _middle(run).data.err
        assert err.type == "headwater.exceptions.StepTimedOut"
        assert "timed out after 1 s" in err.message


@pytest.mark.parametrize("mode", ["noretry", "exit202"])
def test_a_step_can_refuse_retries(run_flow, hw_root, mode):
    proc, run, attempts = _run(
        run_flow,
        hw_root,
        "linear",
        "fork",
        ["retry:times=3,minutes_between_retries=0"],
        "--mode",
        mode,
    )
    assert proc.returncode == 1
    assert attempts == [0]
    assert not run.successful


@pytest.mark.slow  # waits for a timeout or a retry
def test_timeout_without_retry_fails_the_run_with_a_message(run_flow, hw_root):
    proc, run, _ = _run(
        run_flow, hw_root, "linear", "fork", ["timeout:seconds=1"], "--mode", "sleep"
    )
    assert proc.returncode == 1
    assert "step 'middle' timed out after 1 s (@timeout)" in proc.stderr


@pytest.mark.slow  # waits for a timeout or a retry
def test_retry_waits_between_attempts(run_flow, hw_root):
    wait_minutes = 0.02  # 1.2 s
    t0 = time.time()
    proc, run, attempts = _run(
        run_flow,
        hw_root,
        "linear",
        "fork",
        [f"retry:times=1,minutes_between_retries={wait_minutes}"],
        "--fail-times",
        "1",
    )
    assert proc.returncode == 0, proc.stderr
    assert attempts == [0, 1]
    assert time.time() - t0 >= wait_minutes * 60
    assert "Retrying in 1.2 s" in proc.stderr


def test_retry_without_minutes_between_retries_retries_at_once(run_flow, hw_root):
    # Metaflow's local runtime retries at once unless minutes_between_retries is given.
    proc, run, attempts = _run(
        run_flow, hw_root, "linear", "fork", ["retry:times=1"], "--fail-times", "1"
    )
    assert proc.returncode == 0, proc.stderr
    assert attempts == [0, 1]
    assert "Retrying now (attempt 1)" in proc.stderr  # attempts count from 0, as logs --attempt


def test_retry_given_in_code_without_a_wait_does_not_wait():
    from headwater.plugins.retry import RetryDecorator

    assert RetryDecorator({"times": 2}).retry_wait_seconds() == 0
    assert RetryDecorator({"minutes_between_retries": 2}).retry_wait_seconds() == 120


def test_catch_on_a_foreach_step_is_refused_by_check(run_flow):
    proc = run_flow("catch_on_foreach_flow.py", "check")
    assert proc.returncode == 1
    assert "@catch on step 'start', which starts a foreach" in proc.stderr


@pytest.mark.parametrize(
    ("withs", "message"),
    [
        ("retry:times=x", "@retry needs a whole number for times"),
        ("retry:tims=2", "@retry has no argument 'tims'"),
        ("nosuch", "no step decorator named 'nosuch'"),
        ("timeout:seconds=0", "@timeout needs a positive duration"),
    ],
)
def test_bad_decorator_arguments(run_flow, withs, message):
    proc = run_flow("linear.py", "--with", withs, "run")
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_decorator_below_step_works_too(run_flow, tmp_path: Path):
    flow = tmp_path / "below.py"
    flow.write_text(
        "from headwater import FlowSpec, current, retry, step\n"
        "class BelowFlow(FlowSpec):\n"
        "    @step\n"
        "    @retry(times=1, minutes_between_retries=0)\n"
        "    def start(self):\n"
        "        if current.retry_count == 0:\n"
        "            raise RuntimeError('first attempt fails')\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    BelowFlow()\n"
    )
    proc = run_flow(flow, "run")
    assert proc.returncode == 0, proc.stderr
    # One numbering: the retry is attempt 1 (as in logs --attempt 1), and the run has two
    # tasks, one of which took two attempts.
    assert "[1/start/1] Retrying now (attempt 1)." in proc.stderr
    assert "[1/start/1] Task is starting (attempt 1)." in proc.stderr
    assert "Run 1 of BelowFlow completed: 2 tasks (1 retry) in " in proc.stderr


def test_bad_decorator_arguments_in_the_flow_file_give_one_line(run_flow, tmp_path: Path):
    flow = tmp_path / "badargs.py"
    flow.write_text(
        "from headwater import FlowSpec, retry, step\n"
        "class BadArgsFlow(FlowSpec):\n"
        "    @retry(times='many')\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    BadArgsFlow()\n"
    )
    for command in ("check", "run"):
        proc = run_flow(flow, command)
        assert proc.returncode == 1
        assert "step 'start': @retry needs a whole number for times" in proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.slow  # waits for a timeout or a retry
def test_timeout_stops_the_tasks_children_too(run_flow, tmp_path: Path):
    import os

    pidfile = tmp_path / "child.pid"
    proc = run_flow("timeout_children_flow.py", "run", "--pidfile", str(pidfile))
    assert proc.returncode == 1
    assert "step 'start' timed out after 1 s" in proc.stderr
    child = int(pidfile.read_text())
    deadline = time.time() + 5
    while time.time() < deadline and os.path.exists(f"/proc/{child}"):
        with open(f"/proc/{child}/stat") as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.05)
    alive = os.path.exists(f"/proc/{child}")
    if alive:
        with open(f"/proc/{child}/stat") as fh:
            alive = fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    assert not alive, "the task's child process survived the timeout"
