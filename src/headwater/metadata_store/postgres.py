"""The team metadata store: PostgreSQL, through psycopg 3 and a connection pool.

Implements :class:`headwater.metadata_store.store.MetadataStore` with the semantics of
:class:`~headwater.metadata_store.sqlite.SqliteMetadata` (ids sequential per flow and per run,
idempotent explicit run and task ids, the tag rules, orderings, status filters, ``batch()`` as
one transaction). The metadata service serves one of these; processes may also use one
directly (``PostgresMetadata("postgresql://...")``). Install with ``headwater[service]``.

Choices beyond the interface, where they differ from the SQLite store:

- Run leases are a heartbeat, not a file lock (see run_heartbeat): a run created with
  ``held=True`` reads as INTERRUPTED once its creator stopped renewing its lease for
  HEADWATER_RUN_LEASE_S seconds, not at once.
- The schema is migrated on first use (see postgres_schema); a newer one is refused.
- A few methods beyond the interface serve the metadata service: ``renew_lease``,
  ``run_owner``, ``execute``, ``extend_leases``, and ``create_run(lease_s=...)``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

from headwater.core.tags import check_user_tag_count, validate_user_tags
from headwater.exceptions import MetadataError
from headwater.metadata_store.checks import (
    canonical_number,
    check_attempt,
    check_name,
    check_parents,
    check_pathspec,
    check_system_tags,
    check_tags_to_remove,
    coerce,
)
from headwater.metadata_store.postgres_connection import PostgresConnection
from headwater.metadata_store.postgres_queries import (
    NOW,
    TASK_COLUMNS,
    TASK_KEY,
    insert_metadata,
    run_from_row,
    run_query,
    task_from_row,
    update_tags,
)
from headwater.metadata_store.postgres_reads import PostgresReads
from headwater.metadata_store.records import RunRecord, RunStatus, TaskRecord, TaskStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class PostgresMetadata(PostgresReads):
    """Run, step, task and attempt records and run tags in a PostgreSQL database. Its reads
    are PostgresReads'."""

    def __init__(
        self, dsn: str, pool_max: int = 10, migrate: bool = True, label: str | None = None
    ) -> None:
        self.dsn = dsn
        self.pool_max = pool_max
        self._db = PostgresConnection(dsn, pool_max=pool_max, migrate=migrate)
        self.where = self._db.where
        self.label = label or self.where  # how "no run ... in <label>" names the store
        self._heartbeat: Any = None  # run_heartbeat.Heartbeat, made for the first held run

    def __repr__(self) -> str:
        return f"PostgresMetadata({self.where!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"dsn": self.dsn, "pool_max": self.pool_max}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["dsn"], state["pool_max"])  # type: ignore[misc]

    def __enter__(self) -> PostgresMetadata:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _no_run(self, flow: str, run_id: str) -> MetadataError:
        return MetadataError(
            f"no run {flow}/{run_id} in {self.label}: create it with create_run first"
        )

    def _no_task(self, flow: str, run_id: str, step: str, task_id: str) -> MetadataError:
        return MetadataError(
            f"no task {flow}/{run_id}/{step}/{task_id} in {self.label}: "
            "create it with create_task first"
        )

    def close(self) -> None:
        """Stop renewing leases and close this process's pool (it reopens on demand)."""
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self._db.close()

    def batch(self) -> Any:
        """``with store.batch():`` this thread's writes inside are committed together when the
        block ends (one transaction; each write still whole or undone)."""
        return self._db.batch()

    def transaction(self, savepoints: bool = False) -> Any:
        """``with store.transaction():`` like batch(), but any exception leaving the block
        rolls back every write made in it (the metadata service applies requests this way)."""
        return self._db.transaction(savepoints)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement of the metadata service's own (its tables: see postgres_schema), in
        its own transaction or in this thread's batch; the rows it returns, if any."""

        def run(conn: Any) -> list[tuple[Any, ...]]:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

        return self._db.transact(run)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One read-only statement of the metadata service's own; its rows."""
        return self._db.read(sql, params)

    # --- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        flow: str,
        user: str,
        tags: Sequence[str] = (),
        system_tags: Sequence[str] = (),
        origin_run_id: str | None = None,
        held: bool = False,
        run_id: str | None = None,
        lease_s: float | None = None,
    ) -> RunRecord:
        """Register the flow if new and allocate the next run id (or use ``run_id``; an
        existing run of that id is returned unchanged); status RUNNING.

        ``held``: this process runs the run; it renews the run's lease until it sets a final
        status. ``lease_s`` (the metadata service): give the run a lease of that length that
        the caller renews itself with :meth:`renew_lease`."""
        from headwater.metadata_store.run_heartbeat import clamp_lease, lease_seconds

        check_name("flow name", flow)
        user_tags = validate_user_tags(tags)
        check_user_tag_count(user_tags)
        sys_tags = check_system_tags(system_tags)
        user_tags = [t for t in user_tags if t not in sys_tags]
        if run_id is not None:
            run_id = check_name("run id", str(run_id))
        if lease_s is not None:
            lease: float | None = clamp_lease(lease_s)
        else:
            lease = lease_seconds() if held else None
        now = time.time()

        def write(conn: Any) -> tuple[RunRecord, bool]:
            conn.execute(
                "INSERT INTO flows (flow, created_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (flow, now),
            )
            # Locking the flow's row serialises run numbering within the flow.
            conn.execute("SELECT 1 FROM flows WHERE flow = %s FOR UPDATE", (flow,))
            if run_id is not None:
                existing = conn.execute(*run_query(flow, run_id)).fetchone()
                if existing is not None:
                    return run_from_row(existing), False
            (last,) = conn.execute(
                "SELECT max(run_number) FROM runs WHERE flow = %s", (flow,)
            ).fetchone()
            number = (last or 0) + 1
            rid = run_id if run_id is not None else str(number)
            conn.execute(
                "INSERT INTO runs (flow, run_id, run_number, username, status, created_at,"
                " finished_at, origin_run_id, lease_s, lease_expires_at)"
                f" VALUES (%s, %s, %s, %s, %s, %s, NULL, %s, %s, {NOW} + %s)",
                (flow, rid, number, user, "running", now, origin_run_id, lease, lease),
            )
            rows = [(tag, True) for tag in sys_tags] + [(tag, False) for tag in user_tags]
            if rows:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO run_tags (flow, run_id, run_number, tag, is_system, position)"
                        " VALUES (%s, %s, %s, %s, %s, %s)",
                        [(flow, rid, number, t, s, i) for i, (t, s) in enumerate(rows)],
                    )
            record = RunRecord(
                flow=flow,
                run_id=rid,
                user=user,
                status=RunStatus.RUNNING,
                created_at=now,
                finished_at=None,
                tags=tuple(user_tags),
                system_tags=tuple(sys_tags),
                origin_run_id=origin_run_id,
            )
            return record, True

        run, created = self._db.transact(write)
        if held and created and lease is not None and lease_s is None:
            self._heartbeats().hold(flow, run.run_id, lease)
        return run

    def _heartbeats(self) -> Any:
        if self._heartbeat is None:
            from headwater.metadata_store.run_heartbeat import Heartbeat

            self._heartbeat = Heartbeat(self.renew_lease)
        return self._heartbeat

    def renew_lease(self, flow: str, run_id: str) -> RunStatus | None:
        """Push the lease of a leased RUNNING run one lease length ahead; returns the run's
        status (None when there is no such run). A run that is no longer RUNNING is left as
        it is."""
        rows = self.execute(
            f"UPDATE runs SET lease_expires_at = CASE WHEN status = 'running' AND lease_s IS"
            f" NOT NULL THEN {NOW} + lease_s END WHERE flow = %s AND run_id = %s RETURNING status",
            (flow, run_id),
        )
        return RunStatus(rows[0][0]) if rows else None

    def extend_leases(self) -> int:
        """Give every leased RUNNING run a full lease from now (the metadata service does this
        when it starts, so runtimes that could not reach it meanwhile can check in again);
        returns how many."""
        rows = self.execute(
            f"UPDATE runs SET lease_expires_at = {NOW} + lease_s"
            " WHERE status = 'running' AND lease_expires_at IS NOT NULL RETURNING 1"
        )
        return len(rows)

    def run_owner(self, flow: str, run_id: str) -> str | None:
        """The user a run belongs to (None: no such run)."""
        rows = self._db.read(
            "SELECT username FROM runs WHERE flow = %s AND run_id = %s", (flow, run_id)
        )
        return rows[0][0] if rows else None

    def set_run_status(self, flow: str, run_id: str, status: RunStatus) -> None:
        """Set a run's status; any status but RUNNING also sets finished_at (and ends the
        run's lease)."""
        status = coerce(RunStatus, status)
        final = status is not RunStatus.RUNNING
        finished = time.time() if final else None

        def write(conn: Any) -> None:
            cur = conn.execute(
                "UPDATE runs SET status = %s, finished_at = %s, lease_expires_at ="
                " CASE WHEN %s THEN NULL ELSE lease_expires_at END"
                " WHERE flow = %s AND run_id = %s",
                (status.value, finished, final, flow, run_id),
            )
            if cur.rowcount == 0:
                raise self._no_run(flow, run_id)

        self._db.transact(write)
        if final and self._heartbeat is not None:
            self._heartbeat.release(flow, run_id)

    # --- tasks and attempts -------------------------------------------------------------------

    def create_task(
        self,
        flow: str,
        run_id: str,
        step: str,
        parents: Sequence[str] = (),
        foreach_index: int | None = None,
        origin_pathspec: str | None = None,
        task_id: str | None = None,
    ) -> TaskRecord:
        """Register a task (and its step, on first use); allocates the next task id of the run
        unless ``task_id`` is given (an id the step has already returns that task)."""
        check_name("step name", step)
        parent_list = check_parents(parents)
        if origin_pathspec is not None:
            check_pathspec("origin pathspec", origin_pathspec)
        if task_id is not None:
            task_id = check_name("task id", str(task_id))
        now = time.time()

        def write(conn: Any) -> TaskRecord:
            number: int | None = None
            if task_id is None or canonical_number(task_id):  # the counter: lock the run
                sql = "SELECT next_task_number FROM runs WHERE flow = %s AND run_id = %s FOR UPDATE"
            else:
                sql = "SELECT next_task_number FROM runs WHERE flow = %s AND run_id = %s"
            row = conn.execute(sql, (flow, run_id)).fetchone()
            if row is None:
                raise self._no_run(flow, run_id)
            next_number = row[0]
            tid = task_id
            if tid is None:
                number, tid = next_number, str(next_number)
            elif canonical_number(tid):
                number = int(tid)
            conn.execute(
                "INSERT INTO steps (flow, run_id, step, created_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (flow, run_id, step, now),
            )
            inserted = conn.execute(
                "INSERT INTO tasks (flow, run_id, step, task_id, task_number, status,"
                " created_at, parents, foreach_index, origin_pathspec)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (flow, run_id, step, task_id) DO NOTHING RETURNING 1",
                (
                    flow,
                    run_id,
                    step,
                    tid,
                    number,
                    TaskStatus.RUNNING.value,
                    now,
                    list(parent_list) or None,
                    foreach_index,
                    origin_pathspec,
                ),
            ).fetchone()
            if inserted is None:  # an explicit id registered before: idempotent
                existing = conn.execute(
                    f"SELECT {TASK_COLUMNS} FROM tasks WHERE {TASK_KEY}", (flow, run_id, step, tid)
                ).fetchone()
                return task_from_row(existing)
            if number is not None and number >= next_number:
                conn.execute(
                    "UPDATE runs SET next_task_number = greatest(next_task_number, %s)"
                    " WHERE flow = %s AND run_id = %s",
                    (number + 1, flow, run_id),
                )
            return TaskRecord(
                flow=flow,
                run_id=run_id,
                step=step,
                task_id=tid,
                status=TaskStatus.RUNNING,
                created_at=now,
                finished_at=None,
                attempts=0,
                successful_attempt=None,
                parents=parent_list,
                foreach_index=foreach_index,
                origin_pathspec=origin_pathspec,
            )

        return self._db.transact(write)

    def start_attempt(self, flow: str, run_id: str, step: str, task_id: str, attempt: int) -> None:
        """Record attempt ``attempt`` (0, 1, ...) of a task as started (restarted if it
        exists); the task's ``attempts`` becomes at least ``attempt + 1``."""
        check_attempt(attempt)
        key = (flow, run_id, step, task_id)
        now = time.time()

        def write(conn: Any) -> None:
            cur = conn.execute(
                f"UPDATE tasks SET attempts = greatest(attempts, %s) WHERE {TASK_KEY}",
                (attempt + 1, *key),
            )
            if cur.rowcount == 0:
                raise self._no_task(*key)
            conn.execute(
                "INSERT INTO attempts (flow, run_id, step, task_id, attempt, status,"
                " started_at, finished_at, exception, traceback)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, NULL, NULL)"
                " ON CONFLICT (flow, run_id, step, task_id, attempt) DO UPDATE SET"
                " status = excluded.status, started_at = excluded.started_at,"
                " finished_at = NULL, exception = NULL, traceback = NULL",
                (*key, attempt, TaskStatus.RUNNING.value, now),
            )

        self._db.transact(write)

    def finish_attempt(
        self,
        flow: str,
        run_id: str,
        step: str,
        task_id: str,
        attempt: int,
        status: TaskStatus,
        exception: str | None = None,
        traceback: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Close an attempt. SUCCEEDED also marks the task succeeded (successful_attempt,
        finished_at). ``metadata`` entries are stored as task metadata of that attempt."""
        check_attempt(attempt)
        status = coerce(TaskStatus, status)
        if status is TaskStatus.RUNNING:
            raise MetadataError("finish_attempt needs a final status: succeeded or failed")
        key = (flow, run_id, step, task_id)
        now = time.time()

        def write(conn: Any) -> None:
            cur = conn.execute(
                "UPDATE attempts SET status = %s, finished_at = %s, exception = %s,"
                f" traceback = %s WHERE {TASK_KEY} AND attempt = %s",
                (status.value, now, exception, traceback, *key, attempt),
            )
            if cur.rowcount == 0:
                raise MetadataError(
                    f"attempt {attempt} of task {'/'.join(key)} was never started: "
                    "call start_attempt first"
                )
            if status is TaskStatus.SUCCEEDED:
                conn.execute(
                    "UPDATE tasks SET status = %s, successful_attempt = %s, finished_at = %s"
                    f" WHERE {TASK_KEY}",
                    (status.value, attempt, now, *key),
                )
            if metadata:
                insert_metadata(conn, key, attempt, metadata, now)

        self._db.transact(write)

    def finish_task(
        self, flow: str, run_id: str, step: str, task_id: str, status: TaskStatus
    ) -> None:
        """Set the final status of a task; a final status keeps an earlier finished_at,
        RUNNING clears it."""
        status = coerce(TaskStatus, status)
        key = (flow, run_id, step, task_id)
        if status is TaskStatus.RUNNING:
            sql = f"UPDATE tasks SET status = %s, finished_at = NULL WHERE {TASK_KEY}"
            params: tuple[Any, ...] = (status.value, *key)
        else:
            sql = (
                "UPDATE tasks SET status = %s, finished_at = coalesce(finished_at, %s)"
                f" WHERE {TASK_KEY}"
            )
            params = (status.value, time.time(), *key)

        def write(conn: Any) -> None:
            if conn.execute(sql, params).rowcount == 0:
                raise self._no_task(*key)

        self._db.transact(write)

    def add_task_metadata(
        self,
        flow: str,
        run_id: str,
        step: str,
        task_id: str,
        attempt: int,
        entries: Mapping[str, str],
    ) -> None:
        """Store ``entries`` (field -> value) as metadata of one attempt of a task."""
        check_attempt(attempt)
        key = (flow, run_id, step, task_id)

        def write(conn: Any) -> None:
            if conn.execute(f"SELECT 1 FROM tasks WHERE {TASK_KEY}", key).fetchone() is None:
                raise self._no_task(*key)
            if entries:
                insert_metadata(conn, key, attempt, entries, time.time())

        self._db.transact(write)

    # --- tags -------------------------------------------------------------------------------

    def add_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Add user tags (validated with headwater.core.tags); returns the updated run."""
        return self._update_tags(flow, run_id, remove=(), add=tags)

    def remove_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Remove user tags; removing a system tag raises TagError, removing a tag the run
        does not carry is a no-op."""
        return self._update_tags(flow, run_id, remove=tags, add=())

    def replace_tags(
        self, flow: str, run_id: str, remove: Iterable[str], add: Iterable[str]
    ) -> RunRecord:
        """Remove then add, atomically (a tag in both stays where it was)."""
        return self._update_tags(flow, run_id, remove=remove, add=add)

    def _update_tags(
        self, flow: str, run_id: str, remove: Iterable[str], add: Iterable[str]
    ) -> RunRecord:
        to_add = validate_user_tags(add)
        to_remove = check_tags_to_remove(remove)

        def write(conn: Any) -> RunRecord:
            if not update_tags(conn, flow, run_id, to_remove, to_add):
                raise self._no_run(flow, run_id)
            return run_from_row(conn.execute(*run_query(flow, run_id)).fetchone())

        return self._db.transact(write)
