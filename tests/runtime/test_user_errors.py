"""A failure inside step code points at the user's code: their frames (file, line, source line)
in the terminal and in ``logs --stderr``, headwater's own frames hidden unless asked for
(``--debug``, ``HEADWATER_DEBUG=1``); a misspelt name gets the near one."""

from __future__ import annotations

import re

import pytest

FLOW = "typo_flow.py"


def _task_lines(stderr: str, step: str) -> list[str]:
    """What the first task of ``step`` printed, without the [run/step/task] prefixes."""
    by_task: dict[str, list[str]] = {}
    for line in stderr.splitlines():
        m = re.match(rf"\[\d+/{step}/(\d+)\] (.*)$", line)
        if m and not m.group(2).startswith(("Task ", "Retrying")):
            by_task.setdefault(m.group(1), []).append(m.group(2))
    return next(iter(by_task.values()), [])


def _frames(text: str) -> list[tuple[str, str]]:
    """(file name, function) of each frame in a traceback."""
    return [
        (path.rsplit("/", 1)[-1], func)
        for path, func in re.findall(r'File "([^"]+)", line \d+, in (\S+)', text)
    ]


def test_a_misspelt_join_input_shows_the_users_lines_and_the_near_name(run_flow):
    proc = run_flow(FLOW, "run")
    assert proc.returncode == 1
    report = "\n".join(_task_lines(proc.stderr, "join"))
    # The user's frames, innermost last, each with its source line; none of headwater's.
    assert _frames(report) == [
        ("typo_flow.py", "join"),
        ("typo_flow.py", "pick_best"),
        ("typo_flow.py", "<lambda>"),
    ]
    assert "return min(inputs, key=lambda i: i.test_mes)" in report
    assert "headwater/" not in report
    last = report.splitlines()[-1]
    assert last.startswith("ArtifactNotFound: the input from step 'train'")
    assert "has no artifact 'test_mes' (did you mean 'test_mse'?)" in last
    # logs --stderr shows the same report.
    run_id = re.search(r"run (\d+) of TypoFlow failed", proc.stderr).group(1)
    logs = run_flow(FLOW, "logs", f"{run_id}/join", "--stderr")
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.strip() == report.strip()


def test_debug_shows_every_frame(run_flow):
    for args, env in ((["--debug", "run"], None), (["run"], {"HEADWATER_DEBUG": "1"})):
        proc = run_flow(FLOW, *args, env=env)
        assert proc.returncode == 1
        frames = _frames("\n".join(_task_lines(proc.stderr, "join")))
        files = {name for name, _ in frames}
        assert {"task.py", "binding.py", "typo_flow.py"} <= files, frames


def test_a_misspelt_artifact_of_self_names_the_near_one(run_flow):
    proc = run_flow(FLOW, "run", env={"MISTAKE": "self"})
    assert proc.returncode == 1
    report = _task_lines(proc.stderr, "train")
    assert _frames("\n".join(report))[-1] == ("typo_flow.py", "train")
    assert "self.score = self.tset_mse  # misspelt: test_mse" in [line.strip() for line in report]
    assert "has no artifact 'tset_mse' (did you mean 'test_mse'?)" in report[-1]


def test_an_error_in_the_users_helper_shows_both_of_their_frames(run_flow):
    proc = run_flow(FLOW, "run", env={"MISTAKE": "helper"})
    assert proc.returncode == 1
    report = _task_lines(proc.stderr, "train")
    assert report[0].startswith("Traceback (most recent call last")
    assert _frames("\n".join(report)) == [
        ("typo_flow.py", "train"),
        ("typo_flow.py", "check_positive"),
    ]
    assert re.fullmatch(r"ValueError: expected a positive value, got -0\.[12]", report[-1])


def test_a_mistake_caught_outside_the_step_is_its_headline_alone(run_flow):
    proc = run_flow(FLOW, "run", env={"MISTAKE": "no-next"})
    assert proc.returncode == 1
    report = _task_lines(proc.stderr, "join")
    assert report == [
        "InvalidFlow: step 'join' finished without calling self.next(): end it with "
        "self.next(self.end)"
    ]


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_the_report_is_the_same_under_every_executor(run_flow, executor):
    proc = run_flow(FLOW, "run", "--executor", executor, env={"MISTAKE": "helper"})
    report = _task_lines(proc.stderr, "train")
    assert [f for _, f in _frames("\n".join(report))] == ["train", "check_positive"]
