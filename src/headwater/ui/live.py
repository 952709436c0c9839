"""Fingerprints of what a live page shows: the page's script polls them and refreshes the page
content only when the fingerprint changes, and stops once the run or task is finished."""

from __future__ import annotations

import hashlib
import time

from headwater.core.ids import AttemptPath
from headwater.metadata_store.records import RunRecord, RunStatus, TaskRecord, TaskStatus
from headwater.ui.queries import Stores
from headwater.ui.task_queries import get_task, log_sizes, shown_attempt

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# While a run or task is going, the fingerprint also changes every few seconds, so the bars
# of running tasks and their durations advance even when nothing else changed.
TICK_S = 5.0


def _digest(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def run_version(run: RunRecord, tasks: list[TaskRecord], now: float | None = None) -> str:
    tick = int((now or time.time()) // TICK_S) if run.status is RunStatus.RUNNING else None
    rows = tuple((t.step, t.task_id, t.status.value, t.attempts, t.finished_at) for t in tasks)
    return _digest(run.status.value, run.finished_at, run.tags, rows, tick)


def task_version(
    task: TaskRecord, attempt: int, sizes: tuple[int, ...], now: float | None = None
) -> str:
    tick = int((now or time.time()) // TICK_S) if task.status is TaskStatus.RUNNING else None
    return _digest(task.status.value, task.attempts, task.finished_at, attempt, sizes, tick)


def run_status(stores: Stores, flow: str, run_id: str) -> dict[str, Any]:
    """What ``/api/run/...`` answers."""
    run = stores.run(flow, run_id)
    tasks = stores.metadata.list_tasks(flow, run_id)
    return {
        "status": run.status.value,
        "done": run.status is not RunStatus.RUNNING,
        "version": run_version(run, tasks),
    }


def task_status(
    stores: Stores, flow: str, run_id: str, step: str, task_id: str, attempt: str | None
) -> dict[str, Any]:
    """What ``/api/task/...`` answers."""
    task = get_task(stores, flow, run_id, step, task_id)
    number = shown_attempt(task, attempt)
    sizes = log_sizes(stores, AttemptPath(flow, run_id, step, task_id, number))
    return {
        "status": task.status.value,
        "done": task.status is not TaskStatus.RUNNING,
        "version": task_version(task, number, sizes),
    }
