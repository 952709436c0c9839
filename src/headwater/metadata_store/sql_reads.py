"""The reads the two SQL metadata stores share: flows, runs, steps, tasks, attempts and task
metadata, written once for SQLite and PostgreSQL.

:class:`SqlReads` is the read side of both stores. What differs comes from the store: its
queries module (sqlite_queries, postgres_queries: the parameter placeholder, the task columns,
key and order, the run queries, how a task row decodes) and, from its mixin (sqlite_reads,
postgres_reads), how rows become runs and how it finds runs whose runtime is gone (reported
INTERRUPTED, never RUNNING forever).
"""

from __future__ import annotations

from headwater.metadata_store.checks import coerce
from headwater.metadata_store.records import (
    AttemptRecord,
    FlowRecord,
    MetadataEntry,
    RunStatus,
    StepMetadataEntry,
    StepRecord,
    TaskStatus,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Sequence
    from typing import Any, Protocol

    from headwater.metadata_store.records import RunRecord, TaskRecord

    class Reader(Protocol):
        """The store's connection, as reads use it: one statement, its rows."""

        def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    class Queries(Protocol):
        """What reads take from a store's queries module (sqlite_queries, postgres_queries)."""

        PLACEHOLDER: str  # of a query parameter: "?" or "%s"
        TASK_COLUMNS: str  # the columns task_from_row decodes
        TASK_KEY: str  # WHERE clause of one task: flow, run_id, step, task_id
        TASK_ORDER: str  # ORDER BY of list_tasks

        def task_from_row(self, row: Any) -> TaskRecord: ...

        def run_query(self, flow: str, run_id: str) -> tuple[str, Sequence[Any]]: ...

        def runs_query(
            self, flow: str, tags: Sequence[str], status: RunStatus | None, limit: int | None
        ) -> tuple[str, Sequence[Any]]: ...


def wanted_tags(tags: str | Iterable[str]) -> list[str]:
    """The tags a run query filters on: one tag or several, each once, in order."""
    return [tags] if isinstance(tags, str) else list(dict.fromkeys(tags))


class SqlReads:
    """Reads of a SQL metadata store, which supplies ``_db`` (its connection), ``_queries``
    (its queries module) and the two methods below that raise NotImplementedError."""

    _db: Reader
    _queries: Queries

    def _read_runs(self, sql: str, params: Sequence[Any]) -> list[RunRecord]:
        """The runs a query of run_query or runs_query finds, those whose runtime is gone
        reported INTERRUPTED."""
        raise NotImplementedError

    def _settle_flow(self, flow: str) -> None:
        """Record as INTERRUPTED every RUNNING run of ``flow`` whose runtime is gone (before
        filtering runs by status)."""
        raise NotImplementedError

    def list_flows(self) -> list[FlowRecord]:
        rows = self._db.read("SELECT flow, created_at FROM flows ORDER BY flow")
        return [FlowRecord(flow=f, created_at=c) for f, c in rows]

    def get_flow(self, flow: str) -> FlowRecord | None:
        p = self._queries.PLACEHOLDER
        rows = self._db.read(f"SELECT flow, created_at FROM flows WHERE flow = {p}", (flow,))
        return FlowRecord(flow=rows[0][0], created_at=rows[0][1]) if rows else None

    def get_run(self, flow: str, run_id: str) -> RunRecord | None:
        runs = self._read_runs(*self._queries.run_query(flow, run_id))
        return runs[0] if runs else None

    def _select_runs(
        self, flow: str, tags: Iterable[str], status: RunStatus | None, limit: int | None
    ) -> list[RunRecord]:
        wanted = wanted_tags(tags)
        if limit is not None and limit <= 0:
            return []
        if status in (RunStatus.RUNNING, RunStatus.INTERRUPTED):  # settle before filtering
            self._settle_flow(flow)
        runs = self._read_runs(*self._queries.runs_query(flow, wanted, status, limit))
        return runs if status is None else [r for r in runs if r.status is status]

    def list_runs(
        self,
        flow: str,
        tags: Iterable[str] = (),
        limit: int | None = None,
        status: RunStatus | None = None,
    ) -> list[RunRecord]:
        """Runs carrying every tag in ``tags`` (user or system), newest first; with
        ``status``, only runs in that status."""
        return self._select_runs(flow, tags, coerce(RunStatus, status) if status else None, limit)

    def latest_run(self, flow: str, tags: Iterable[str] = ()) -> RunRecord | None:
        runs = self._select_runs(flow, tags, None, 1)
        return runs[0] if runs else None

    def latest_successful_run(self, flow: str, tags: Iterable[str] = ()) -> RunRecord | None:
        """Newest run with status COMPLETED carrying every tag in ``tags``."""
        runs = self._select_runs(flow, tags, RunStatus.COMPLETED, 1)
        return runs[0] if runs else None

    def list_steps(self, flow: str, run_id: str) -> list[StepRecord]:
        """Steps of a run in the order they first ran."""
        p = self._queries.PLACEHOLDER
        rows = self._db.read(
            f"SELECT flow, run_id, step, created_at FROM steps WHERE flow = {p} AND run_id = {p}"
            " ORDER BY id",
            (flow, run_id),
        )
        return [StepRecord(flow=f, run_id=r, step=s, created_at=c) for f, r, s, c in rows]

    def list_tasks(self, flow: str, run_id: str, step: str | None = None) -> list[TaskRecord]:
        """Tasks of a run (or of one step), in task id order: numeric ids first, by number;
        then the ids a scheduler named (by foreach index, in SQLite)."""
        q = self._queries
        p = q.PLACEHOLDER
        sql = f"SELECT {q.TASK_COLUMNS} FROM tasks WHERE flow = {p} AND run_id = {p}"
        params: tuple[str, ...] = (flow, run_id)
        if step is not None:
            sql += f" AND step = {p}"
            params += (step,)
        sql += f" ORDER BY {q.TASK_ORDER}"
        from_row = q.task_from_row
        return [from_row(row) for row in self._db.read(sql, params)]

    def get_task(self, flow: str, run_id: str, step: str, task_id: str) -> TaskRecord | None:
        q = self._queries
        rows = self._db.read(
            f"SELECT {q.TASK_COLUMNS} FROM tasks WHERE {q.TASK_KEY}", (flow, run_id, step, task_id)
        )
        return q.task_from_row(rows[0]) if rows else None

    def list_attempts(self, flow: str, run_id: str, step: str, task_id: str) -> list[AttemptRecord]:
        rows = self._db.read(
            "SELECT attempt, status, started_at, finished_at, exception, traceback"
            f" FROM attempts WHERE {self._queries.TASK_KEY} ORDER BY attempt",
            (flow, run_id, step, task_id),
        )
        return [
            AttemptRecord(flow, run_id, step, task_id, a, TaskStatus(s), st, fin, exc, tb)
            for a, s, st, fin, exc, tb in rows
        ]

    def get_task_metadata(
        self, flow: str, run_id: str, step: str, task_id: str
    ) -> list[MetadataEntry]:
        """Metadata entries of every attempt of a task, in the order they were stored."""
        rows = self._db.read(
            "SELECT field, value, type, attempt, created_at FROM task_metadata"
            f" WHERE {self._queries.TASK_KEY} ORDER BY id",
            (flow, run_id, step, task_id),
        )
        return [MetadataEntry(f, v, t, a, c) for f, v, t, a, c in rows]

    def step_metadata(
        self, flow: str, run_id: str, step: str, field: str
    ) -> list[StepMetadataEntry]:
        p = self._queries.PLACEHOLDER
        rows = self._db.read(
            "SELECT task_id, attempt, value FROM task_metadata"
            f" WHERE flow = {p} AND run_id = {p} AND step = {p} AND field = {p} ORDER BY id",
            (flow, run_id, step, field),
        )
        return [StepMetadataEntry(t, a, v) for t, a, v in rows]
