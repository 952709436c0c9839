"""Runs whose runtime died without recording how they ended: found by their abandoned lease
(see run_leases) when someone reads them, and recorded as INTERRUPTED, with the tasks and
attempts that were still running recorded as FAILED, so every reader agrees and ``resume``
can pick the run up."""

from __future__ import annotations

from headwater.exceptions import MetadataError
from headwater.metadata_store.records import RunStatus, TaskStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from headwater.metadata_store.run_leases import RunLeases
    from headwater.metadata_store.sqlite_connection import SqliteConnection

DIED = (
    "TaskDied: the runtime process of this run stopped (killed, or its machine went down) "
    "before the task finished"
)


def settle_abandoned(
    db: SqliteConnection, leases: RunLeases, flow: str, run_ids: Iterable[str]
) -> set[str]:
    """Of these RUNNING runs, record as INTERRUPTED those whose lease is abandoned; returns
    their ids (also when the database is read-only and they stay as they are on disk)."""
    dead = {r for r in run_ids if leases.abandoned(flow, r)}
    for run_id in dead:
        try:
            _record(db, flow, run_id)
        except MetadataError:
            continue  # read-only: readers still report the run as interrupted
        leases.forget(flow, run_id)
    return dead


def _record(db: SqliteConnection, flow: str, run_id: str) -> None:
    running, failed = RunStatus.RUNNING.value, TaskStatus.FAILED.value
    with db.write() as conn:
        # The end is the last sign of life: the latest start or end of one of its attempts.
        (last,) = conn.execute(
            "SELECT MAX(MAX(started_at, COALESCE(finished_at, 0))) FROM attempts"
            " WHERE flow = ? AND run_id = ?",
            (flow, run_id),
        ).fetchone()
        conn.execute(
            "UPDATE runs SET status = ?, finished_at = COALESCE(?, created_at)"
            " WHERE flow = ? AND run_id = ? AND status = ?",
            (RunStatus.INTERRUPTED.value, last, flow, run_id, running),
        )
        conn.execute(
            "UPDATE attempts SET status = ?, finished_at = COALESCE(?, started_at),"
            " exception = ? WHERE flow = ? AND run_id = ? AND status = ?",
            (failed, last, DIED, flow, run_id, running),
        )
        conn.execute(
            "UPDATE tasks SET status = ? WHERE flow = ? AND run_id = ? AND status = ?",
            (failed, flow, run_id, running),
        )
