"""The embedded metadata store: one SQLite database file (WAL) under the datastore root.

Implements :class:`headwater.metadata_store.store.MetadataStore`. Objects are cheap: the database is
opened on first use, once per process (a forked child that inherits an object opens its own
connection and never touches the parent's). Every write is one short ``BEGIN IMMEDIATE``
transaction, so ids allocated by concurrent processes never collide; readers in other
processes are never blocked (WAL) and see a write as soon as the call returns.

Choices beyond the interface:

- Removing a tag the run does not carry is a no-op (as in Metaflow); removing a system tag,
  or anything that looks like one, raises :class:`TagError`.
- ``create_task`` with an explicit ``task_id`` that the step already has returns the existing
  task unchanged (registering is idempotent, e.g. for a retried remote pod). A numeric explicit
  id moves the run's id counter past it, so allocated ids never collide with it.
- ``start_attempt`` of an attempt that already exists restarts it (clears its end).
- Task metadata entries get ``type`` equal to their field name; values are stored as ``str``.
- Reads of a database file that does not exist return nothing and create nothing.
"""

from __future__ import annotations

import _sqlite3 as sqlite3  # see sqlite_connection
import os
import time
from collections.abc import Iterable, Mapping, Sequence

from headwater.core.tags import check_user_tag_count, is_system_tag, validate_user_tags
from headwater.exceptions import MetadataError, TagError
from headwater.metadata_store.checks import check_parents, check_pathspec
from headwater.metadata_store.records import RunRecord, RunStatus, TaskRecord, TaskStatus
from headwater.metadata_store.sqlite_connection import SqliteConnection
from headwater.metadata_store.sqlite_queries import (
    TASK_COLUMNS,
    TASK_KEY,
    canonical_number,
    check_attempt,
    check_name,
    check_system_tags,
    coerce,
    run_query,
    runs_from_rows,
    task_from_row,
)
from headwater.metadata_store.sqlite_reads import SqliteReads

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

DATABASE_FILE = "metadata.db"  # in the local root


class SqliteMetadata(SqliteReads):
    """Run, step, task and attempt records and run tags in one SQLite file (usually
    ``<root>/metadata.db``). Its reads are SqliteReads'."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._db = SqliteConnection(self.path)
        self._lease_book = None  # RunLeases, made on first use (see SqliteReads._leases)

    @classmethod
    def from_settings(cls, settings: Any, local_root: str | None) -> SqliteMetadata:
        """The store of a local root: ``<root>/metadata.db`` (see headwater.stores)."""
        assert local_root is not None, "local metadata needs a local root"
        return cls(os.path.join(local_root, DATABASE_FILE))

    def __repr__(self) -> str:
        return f"SqliteMetadata({str(self.path)!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    def __enter__(self) -> SqliteMetadata:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _no_run(self, flow: str, run_id: str) -> MetadataError:
        return MetadataError(
            f"no run {flow}/{run_id} in {self.path}: create it with create_run first"
        )

    def _no_task(self, flow: str, run_id: str, step: str, task_id: str) -> MetadataError:
        return MetadataError(
            f"no task {flow}/{run_id}/{step}/{task_id} in {self.path}: "
            "create it with create_task first"
        )

    def close(self) -> None:
        """Close this process's connection; the object stays usable and reopens on demand."""
        self._db.close()

    def batch(self) -> Any:
        """``with store.batch():`` the writes made inside are committed together when the block
        ends (one transaction; each write still whole or undone). Hold it briefly."""
        return self._db.batch()

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
    ) -> RunRecord:
        """Register the flow if new and allocate the next run id (or use ``run_id``; an
        existing run of that id is returned unchanged); status RUNNING.

        ``held``: this process runs the run. It holds the run's lease (see run_leases) until
        it sets a final status; if it dies first, readers find the run INTERRUPTED."""
        check_name("flow name", flow)
        user_tags = validate_user_tags(tags)
        check_user_tag_count(user_tags)
        sys_tags = check_system_tags(system_tags)
        user_tags = [t for t in user_tags if t not in sys_tags]
        if run_id is not None:
            run_id = check_name("run id", str(run_id))
        now = time.time()
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO flows (flow, created_at) VALUES (?, ?)", (flow, now)
            )
            if run_id is not None:
                existing = runs_from_rows(conn.execute(*run_query(flow, run_id)))
                if existing:
                    return existing[0]
            (last,) = conn.execute(
                "SELECT MAX(run_number) FROM runs WHERE flow = ?", (flow,)
            ).fetchone()
            number = (last or 0) + 1
            if run_id is None:
                run_id = str(number)
            conn.execute(
                "INSERT INTO runs (flow, run_id, run_number, user, status, created_at,"
                " finished_at, origin_run_id) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                (flow, run_id, number, user, RunStatus.RUNNING.value, now, origin_run_id),
            )
            rows = [(tag, 1) for tag in sys_tags] + [(tag, 0) for tag in user_tags]
            if rows:
                conn.executemany(
                    "INSERT INTO run_tags (flow, run_id, run_number, tag, is_system, position)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(flow, run_id, number, t, s, i) for i, (t, s) in enumerate(rows)],
                )
            if held:  # inside the transaction: no moment when the run exists unleased
                try:
                    self._leases.hold(flow, run_id)
                except OSError as e:
                    raise MetadataError(
                        f"could not create the lease of run {flow}/{run_id} in "
                        f"{self._leases.dir} ({e.strerror or e}): check that the directory "
                        "is writable"
                    ) from e
        return RunRecord(
            flow=flow,
            run_id=run_id,
            user=user,
            status=RunStatus.RUNNING,
            created_at=now,
            finished_at=None,
            tags=tuple(user_tags),
            system_tags=tuple(sys_tags),
            origin_run_id=origin_run_id,
        )

    def set_run_status(self, flow: str, run_id: str, status: RunStatus) -> None:
        """Set a run's status; any status but RUNNING also sets finished_at."""
        status = coerce(RunStatus, status)
        finished = None if status is RunStatus.RUNNING else time.time()
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE flow = ? AND run_id = ?",
                (status.value, finished, flow, run_id),
            )
            if cur.rowcount == 0:
                raise self._no_run(flow, run_id)
        if status is not RunStatus.RUNNING:
            self._leases.release(flow, run_id)

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
        unless ``task_id`` is given. Status RUNNING, attempts 0."""
        check_name("step name", step)
        parent_list = check_parents(parents)
        if origin_pathspec is not None:
            check_pathspec("origin pathspec", origin_pathspec)
        parents_json = _json_list(parent_list) if parent_list else None
        if task_id is not None:
            task_id = check_name("task id", str(task_id))
        now = time.time()
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT next_task_number FROM runs WHERE flow = ? AND run_id = ?", (flow, run_id)
            ).fetchone()
            if row is None:
                raise self._no_run(flow, run_id)
            next_number = row[0]
            if task_id is None:
                number: int | None = next_number
                task_id = str(next_number)
            else:
                number = int(task_id) if canonical_number(task_id) else None
            conn.execute(
                "INSERT OR IGNORE INTO steps (flow, run_id, step, created_at) VALUES (?, ?, ?, ?)",
                (flow, run_id, step, now),
            )
            cur = conn.execute(
                "INSERT OR IGNORE INTO tasks (flow, run_id, step, task_id, task_number, status,"
                " created_at, parents, foreach_index, origin_pathspec)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    flow,
                    run_id,
                    step,
                    task_id,
                    number,
                    TaskStatus.RUNNING.value,
                    now,
                    parents_json,
                    foreach_index,
                    origin_pathspec,
                ),
            )
            if cur.rowcount == 0:  # an explicit id registered before: idempotent
                existing = conn.execute(
                    f"SELECT {TASK_COLUMNS} FROM tasks WHERE {TASK_KEY}",
                    (flow, run_id, step, task_id),
                ).fetchone()
                return task_from_row(existing)
            if number is not None and number >= next_number:
                conn.execute(
                    "UPDATE runs SET next_task_number = ? WHERE flow = ? AND run_id = ?",
                    (number + 1, flow, run_id),
                )
        return TaskRecord(
            flow=flow,
            run_id=run_id,
            step=step,
            task_id=task_id,
            status=TaskStatus.RUNNING,
            created_at=now,
            finished_at=None,
            attempts=0,
            successful_attempt=None,
            parents=parent_list,
            foreach_index=foreach_index,
            origin_pathspec=origin_pathspec,
        )

    def start_attempt(self, flow: str, run_id: str, step: str, task_id: str, attempt: int) -> None:
        """Record attempt ``attempt`` (0, 1, ...) of a task as started; the task's ``attempts``
        becomes at least ``attempt + 1``."""
        check_attempt(attempt)
        key = (flow, run_id, step, task_id)
        now = time.time()
        with self._db.write() as conn:
            cur = conn.execute(
                f"UPDATE tasks SET attempts = MAX(attempts, ?) WHERE {TASK_KEY}",
                (attempt + 1, *key),
            )
            if cur.rowcount == 0:
                raise self._no_task(*key)
            conn.execute(
                "INSERT OR REPLACE INTO attempts (flow, run_id, step, task_id, attempt, status,"
                " started_at, finished_at, exception, traceback)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                (*key, attempt, TaskStatus.RUNNING.value, now),
            )

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
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE attempts SET status = ?, finished_at = ?, exception = ?, traceback = ?"
                f" WHERE {TASK_KEY} AND attempt = ?",
                (status.value, now, exception, traceback, *key, attempt),
            )
            if cur.rowcount == 0:
                raise MetadataError(
                    f"attempt {attempt} of task {'/'.join(key)} was never started: "
                    "call start_attempt first"
                )
            if status is TaskStatus.SUCCEEDED:
                conn.execute(
                    "UPDATE tasks SET status = ?, successful_attempt = ?, finished_at = ?"
                    f" WHERE {TASK_KEY}",
                    (status.value, attempt, now, *key),
                )
            if metadata:
                self._insert_metadata(conn, key, attempt, metadata, now)

    def finish_task(
        self, flow: str, run_id: str, step: str, task_id: str, status: TaskStatus
    ) -> None:
        """Set the final status of a task (e.g. FAILED once retries are exhausted).

        A final status keeps an earlier finished_at (set by a succeeded attempt); RUNNING
        clears it."""
        status = coerce(TaskStatus, status)
        key = (flow, run_id, step, task_id)
        if status is TaskStatus.RUNNING:
            sql = f"UPDATE tasks SET status = ?, finished_at = NULL WHERE {TASK_KEY}"
            params: tuple[Any, ...] = (status.value, *key)
        else:
            sql = (
                "UPDATE tasks SET status = ?, finished_at = COALESCE(finished_at, ?)"
                f" WHERE {TASK_KEY}"
            )
            params = (status.value, time.time(), *key)
        with self._db.write() as conn:
            if conn.execute(sql, params).rowcount == 0:
                raise self._no_task(*key)

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
        with self._db.write() as conn:
            if conn.execute(f"SELECT 1 FROM tasks WHERE {TASK_KEY}", key).fetchone() is None:
                raise self._no_task(*key)
            if entries:
                self._insert_metadata(conn, key, attempt, entries, time.time())

    @staticmethod
    def _insert_metadata(
        conn: sqlite3.Connection,
        key: tuple[str, str, str, str],
        attempt: int,
        entries: Mapping[str, str],
        now: float,
    ) -> None:
        conn.executemany(
            "INSERT INTO task_metadata (flow, run_id, step, task_id, attempt, field, value,"
            " type, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*key, attempt, str(f), str(v), str(f), now) for f, v in entries.items()],
        )

    # --- tags -------------------------------------------------------------------------------

    def add_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Add user tags (validated with headwater.core.tags); returns the updated run."""
        return self._update_tags(flow, run_id, remove=(), add=tags)

    def remove_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Remove user tags; removing a system tag raises TagError. Removing a tag the run
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
        add = list(add)
        validate_user_tags([t for t in add if not (isinstance(t, str) and is_system_tag(t))])
        to_remove = list(remove)
        for tag in to_remove:
            if not isinstance(tag, str):
                raise TagError(f"tag {tag!r} is not a string: tags are text")
            if is_system_tag(tag):
                raise TagError(f"tag {tag!r} is a system tag and cannot be removed")
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT run_number FROM runs WHERE flow = ? AND run_id = ?", (flow, run_id)
            ).fetchone()
            if row is None:
                raise self._no_run(flow, run_id)
            number = row[0]
            current = conn.execute(
                "SELECT tag, is_system, position FROM run_tags WHERE flow = ? AND run_id = ?"
                " ORDER BY position",
                (flow, run_id),
            ).fetchall()
            system = {tag for tag, is_sys, _ in current if is_sys}
            # Adding a tag the run has as a system tag is a no-op, as in Metaflow.
            to_add = validate_user_tags([t for t in add if t not in system])
            for tag in to_remove:
                if tag in system:
                    raise TagError(f"tag {tag!r} is a system tag and cannot be removed")
            user = [tag for tag, is_sys, _ in current if not is_sys]
            dropped = set(to_remove) - set(to_add)
            kept = [tag for tag in user if tag not in dropped]
            new = [tag for tag in to_add if tag not in kept and tag not in system]
            check_user_tag_count(kept + new)
            gone = [(flow, run_id, tag) for tag in user if tag in dropped]
            if gone:
                conn.executemany(
                    "DELETE FROM run_tags WHERE flow = ? AND run_id = ? AND tag = ?", gone
                )
            if new:
                start = max((pos for _, _, pos in current), default=-1) + 1
                conn.executemany(
                    "INSERT INTO run_tags (flow, run_id, run_number, tag, is_system, position)"
                    " VALUES (?, ?, ?, ?, 0, ?)",
                    [(flow, run_id, number, tag, start + i) for i, tag in enumerate(new)],
                )
            sql, params = run_query(flow, run_id)
            return runs_from_rows(conn.execute(sql, params))[0]


def _json_list(items: Sequence[str]) -> str:
    import json  # here, not at the top: read-only users of the store never need json (or re)

    return json.dumps(items)
