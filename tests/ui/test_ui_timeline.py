"""The task timeline: bars placed on one time axis from the run's start, round tick marks."""

from __future__ import annotations

import re

from headwater.metadata_store.records import RunRecord, RunStatus, TaskRecord, TaskStatus
from headwater.ui.timeline import nice_step, render_timeline


def _task(task_id: str, start: float, end: float | None, status=TaskStatus.SUCCEEDED):
    return TaskRecord("F", "1", "s<x>", task_id, status, start, end, 1, 0, ())


def test_nice_steps_are_round():
    assert nice_step(2.5) == 0.5
    assert nice_step(0.072) == 0.02
    assert nice_step(3600) == 1000
    assert nice_step(10) == 2


def test_bars_are_placed_by_start_and_end_and_running_ones_reach_now():
    run = RunRecord("F", "1", "ann", RunStatus.RUNNING, 100.0, None, (), ())
    tasks = [_task("1", 100.0, 105.0), _task("2", 105.0, None, TaskStatus.RUNNING)]
    html = render_timeline(run, tasks, now=110.0)
    bars = re.findall(r'class="bar st-(\w+)" style="left:([\d.]+)%;width:([\d.]+)%"', html)
    assert bars == [("succeeded", "0.000", "50.000"), ("running", "50.000", "50.000")]
    assert ">0 ms</span>" in html and ">2.0 s</span>" in html
    assert "s&lt;x&gt;/1" in html and "<x>" not in html


def test_no_tasks_yet():
    run = RunRecord("F", "1", "ann", RunStatus.RUNNING, 100.0, None, (), ())
    assert "No task has started yet." in render_timeline(run, [], now=101.0)
