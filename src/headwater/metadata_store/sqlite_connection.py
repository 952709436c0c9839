"""One process's connection to the SQLite metadata file: opening, transactions, reads.

The database is opened on first use, once per process: a forked child that inherits an open
connection opens its own and never touches the parent's (the inherited one is kept alive,
unused, so closing it cannot disturb the parent's locks or shared WAL index). A lock makes the
object safe to share between threads of one process; it is replaced after a fork, since the
inherited one may be held by a thread that no longer exists.

Every write is one ``BEGIN IMMEDIATE`` transaction, unless it is made inside ``batch()``: then
it is a savepoint of the batch's one transaction (undone alone when it fails), and all of the
batch's writes are committed together when the block ends. Every read is one statement, its
own consistent snapshot. SQLite errors become :class:`MetadataError` with the file's path.
"""

from __future__ import annotations

import _sqlite3 as sqlite3  # the C module: the sqlite3 package imports datetime (~3.5 ms)
import _thread
import os

from headwater.exceptions import MetadataError
from headwater.metadata_store.schema import ensure_schema

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence
    from typing import Any

BUSY_TIMEOUT_S = 30.0

# Connections a forked child inherited: kept alive (never closed, never used) so the child
# cannot disturb the parent's locks or shared WAL index.
_INHERITED: list[sqlite3.Connection] = []


class SqliteConnection:
    """The metadata file at ``path`` as this process sees it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._conn_pid: int | None = None
        self._lock = _thread.RLock()
        self._lock_pid = os.getpid()
        self._batch_depth = 0  # open batch() blocks of the process _batch_pid
        self._batch_pid: int | None = None

    def lock(self) -> Any:
        """This process's lock (an RLock: hold it around several calls to make them atomic
        for other threads)."""
        pid = os.getpid()
        if self._lock_pid != pid:
            self._lock = _thread.RLock()
            self._lock_pid = pid
        return self._lock

    def connection(self, create: bool = True) -> sqlite3.Connection | None:
        """The open connection; None when ``create`` is false and the file does not exist.
        Call with the lock held."""
        pid = os.getpid()
        if self._conn is not None:
            if self._conn_pid == pid:
                return self._conn
            _INHERITED.append(self._conn)
            self._conn = None
        if not create and not os.path.exists(self.path):
            return None
        if create:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=256,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            ensure_schema(conn, self.path)
        except BaseException:
            conn.close()
            raise
        self._conn, self._conn_pid = conn, pid
        return conn

    def error(self, exc: sqlite3.Error) -> MetadataError:
        detail = " ".join(str(exc).split())
        return MetadataError(
            f"metadata database {self.path} failed: {detail}: check that it is a headwater "
            "metadata database on a writable local disk"
        )

    def write(self) -> _Transaction:
        """``with db.write() as conn:`` one ``BEGIN IMMEDIATE`` transaction, committed on
        exit, rolled back on error (inside a batch: a savepoint, released or rolled back)."""
        return _Transaction(self)

    def batch(self) -> _Batch:
        """``with db.batch():`` the writes inside share one transaction, committed when the
        block ends, also when it ends with an exception (each write is whole or undone). Holds
        the database's write lock for the block: keep it short."""
        return _Batch(self)

    def in_batch(self) -> bool:
        return self._batch_depth > 0 and self._batch_pid == os.getpid()

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement; nothing when the file does not exist."""
        with self.lock():
            try:
                conn = self.connection(create=False)
                if conn is None:
                    return []
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self.error(exc) from exc

    def close(self) -> None:
        """Close this process's connection; it reopens on demand."""
        with self.lock():
            if self._conn is not None:
                if self._conn_pid == os.getpid():
                    self._conn.close()
                else:
                    _INHERITED.append(self._conn)
                self._conn = None


class _Transaction:
    """The context manager :meth:`SqliteConnection.write` returns."""

    __slots__ = ("_db", "_lock", "_conn", "_savepoint")

    def __init__(self, db: SqliteConnection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._lock = self._db.lock()
        self._lock.acquire()
        try:
            conn = self._db.connection()
            assert conn is not None
            self._savepoint = self._db.in_batch()
            conn.execute("SAVEPOINT hw_write" if self._savepoint else "BEGIN IMMEDIATE")
        except BaseException as exc:
            self._lock.release()
            if isinstance(exc, sqlite3.Error):
                raise self._db.error(exc) from exc
            raise
        self._conn = conn
        return conn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._savepoint:
            self._finish(exc, "RELEASE hw_write", ("ROLLBACK TO hw_write", "RELEASE hw_write"))
        else:
            self._finish(exc, "COMMIT", ("ROLLBACK",))

    def _finish(self, exc: Any, done: str, undo: tuple[str, ...]) -> None:
        """Run ``done``; when the block failed (or ``done`` did), ``undo`` instead, and raise
        a SQLite error as MetadataError. Releases the lock either way."""
        conn = self._conn
        try:
            if exc is None:
                try:
                    conn.execute(done)
                    return
                except sqlite3.Error as done_exc:
                    exc = done_exc
            if conn.in_transaction:
                try:
                    for sql in undo:
                        conn.execute(sql)
                except sqlite3.Error:
                    pass
            if isinstance(exc, sqlite3.Error):
                raise self._db.error(exc) from exc
        finally:
            self._lock.release()


class _Batch:
    """The context manager :meth:`SqliteConnection.batch` returns."""

    __slots__ = ("_db", "_lock")

    def __init__(self, db: SqliteConnection) -> None:
        self._db = db

    def __enter__(self) -> None:
        db = self._db
        self._lock = db.lock()
        self._lock.acquire()
        try:
            if not db.in_batch():
                conn = db.connection()
                assert conn is not None
                conn.execute("BEGIN IMMEDIATE")
                db._batch_depth, db._batch_pid = 0, os.getpid()
            db._batch_depth += 1
        except BaseException as exc:
            self._lock.release()
            if isinstance(exc, sqlite3.Error):
                raise db.error(exc) from exc
            raise

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db = self._db
        try:
            db._batch_depth -= 1
            if db._batch_depth:
                return
            conn = db.connection()
            assert conn is not None
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as commit_exc:
                if conn.in_transaction:
                    try:  # noqa: SIM105 - contextlib is not imported on this path
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise db.error(commit_exc) from commit_exc
        finally:
            self._lock.release()
