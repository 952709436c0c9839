"""One process's connections to the PostgreSQL metadata database: a pool, transactions, batches.

The pool (psycopg_pool) is made on first use, once per process: a forked child that inherits
one makes its own and never touches the parent's (the inherited pool is kept alive, unused,
since closing its connections would end the parent's sessions). Connections are in autocommit
mode: a read is one statement and one round trip; a write is one function run inside one
transaction, run again when PostgreSQL aborted it for a deadlock or a serialization failure.

``batch()`` is per thread: the thread's writes inside it share one transaction on one
connection (each write a savepoint, undone alone when it fails), committed when the block
ends, also when it ends with an exception, unless the database itself failed (the connection
was lost, a deadlock): then it is rolled back whole and MetadataUnavailable raised. The
thread's reads inside it see its writes. Other threads are not held up.

psycopg errors become :class:`MetadataUnavailable` (the database cannot be reached) or
:class:`MetadataError`, with the database's address and never its password.
"""

from __future__ import annotations

import os
import threading
import time

from headwater.exceptions import MetadataError, MetadataUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Sequence
    from typing import Any, TypeVar

    T = TypeVar("T")

CONNECT_TIMEOUT_S = 10
CHECKOUT_TIMEOUT_S = 10.0
WRITE_TRIES = 5  # for transactions PostgreSQL aborted (deadlock, serialization failure)

# Pools a forked child inherited: kept alive, never used or closed (the sessions are the parent's).
_INHERITED: list[Any] = []


def redact(dsn: str) -> str:
    """The database's address for messages: the URL without its password."""
    if "://" not in dsn:
        kept = [p for p in dsn.split() if not p.startswith("password")]
        return "postgresql (" + " ".join(kept) + ")"
    scheme, rest = dsn.split("://", 1)
    if "@" in rest.split("/", 1)[0]:
        userinfo, host = rest.split("@", 1)
        rest = userinfo.split(":", 1)[0] + "@" + host
    return f"{scheme}://{rest.split('?', 1)[0]}"


def _psycopg() -> Any:
    try:
        import psycopg
        import psycopg_pool  # noqa: F401 - checked here, used by the pool
    except ImportError:
        raise MetadataError(
            "the PostgreSQL metadata store needs psycopg and psycopg-pool: "
            "pip install 'headwater[service]'"
        ) from None
    return psycopg


class PostgresConnection:
    """The database at ``dsn`` as this process sees it (``where``: how messages name it)."""

    def __init__(self, dsn: str, pool_max: int = 10, migrate: bool = True) -> None:
        self.dsn = dsn
        self.where = redact(dsn)
        self.pool_max = pool_max
        self.migrate = migrate
        self._pool: Any = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    # --- the pool -------------------------------------------------------------------------

    def pool(self) -> Any:
        pid = os.getpid()
        if self._pool is not None and self._pid == pid:
            return self._pool
        if self._pid != pid:  # a forked child: fresh lock and batch state, the pool left alone
            if self._pool is not None:
                _INHERITED.append(self._pool)
                self._pool = None
            self._lock = threading.Lock()
            self._local = threading.local()
            self._pid = pid
        with self._lock:
            if self._pool is None:
                self._pool = self._open()
        return self._pool

    def _open(self) -> Any:
        psycopg = _psycopg()
        from psycopg_pool import ConnectionPool

        from headwater.metadata_store.postgres_schema import migrate, refuse_newer

        try:  # first one connection, which fails at once when the database is not there
            with psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
            ) as conn:
                if self.migrate:
                    migrate(conn, self.where)
                else:
                    from headwater.metadata_store.postgres_schema import current_version

                    refuse_newer(current_version(conn), self.where)
        except psycopg.Error as exc:
            raise self.error(exc) from exc
        return ConnectionPool(
            self.dsn,
            min_size=1,
            max_size=self.pool_max,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            open=True,
            name="headwater-metadata",
        )

    def error(self, exc: BaseException) -> MetadataError:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        psycopg = _psycopg()
        from psycopg_pool import PoolTimeout

        if isinstance(exc, (psycopg.OperationalError, PoolTimeout)):
            return MetadataUnavailable(
                f"cannot reach the metadata database {self.where} ({detail}): check that "
                "PostgreSQL is running and the URL is right"
            )
        return MetadataError(f"metadata database {self.where} failed: {detail}")

    # --- statements -----------------------------------------------------------------------

    def _batch_conn(self) -> Any:
        if self._pid != os.getpid():
            return None
        return getattr(self._local, "conn", None)

    def read(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        """One statement; its rows. Retried once on a fresh connection when the pooled one
        turns out to be broken (e.g. after a restart of PostgreSQL)."""
        psycopg = _psycopg()
        conn = self._batch_conn()
        try:
            if conn is not None:
                return conn.execute(sql, params).fetchall()
            for again in (True, False):
                try:
                    with self.pool().connection(timeout=CHECKOUT_TIMEOUT_S) as c:
                        return c.execute(sql, params).fetchall()
                except psycopg.OperationalError:
                    if not again:
                        raise
            raise AssertionError("unreachable")  # pragma: no cover
        except MetadataError:
            raise
        except Exception as exc:
            if _is_driver_error(exc):
                raise self.error(exc) from exc
            raise

    def transact(self, fn: Callable[[Any], T]) -> T:
        """``fn(conn)`` inside one transaction (inside a batch: a savepoint of it)."""
        psycopg = _psycopg()
        conn = self._batch_conn()
        if conn is not None:
            try:
                if not self._local.savepoints:  # inside transaction(): all or nothing anyway
                    return fn(conn)
                with conn.transaction():
                    return fn(conn)
            except psycopg.Error as exc:
                raise self.error(exc) from exc
        for attempt in range(WRITE_TRIES):
            try:
                with (
                    self.pool().connection(timeout=CHECKOUT_TIMEOUT_S) as c,
                    c.transaction(),
                ):
                    return fn(c)
            except psycopg.errors.TransactionRollback as exc:
                if attempt == WRITE_TRIES - 1:
                    raise self.error(exc) from exc
                time.sleep(0.005 * 2**attempt)
            except MetadataError:
                raise
            except Exception as exc:
                if _is_driver_error(exc):
                    raise self.error(exc) from exc
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def batch(self) -> _Batch:
        return _Batch(self, atomic=False, savepoints=True)

    def transaction(self, savepoints: bool = False) -> _Batch:
        """Like batch(), but all or nothing: any exception leaving the block rolls back every
        write made in it. ``savepoints``: each write is still undone alone when it fails (the
        block may go on); without, a failing write spoils the transaction."""
        return _Batch(self, atomic=True, savepoints=savepoints)

    def in_batch(self) -> bool:
        return self._batch_conn() is not None

    def close(self) -> None:
        """Close this process's pool; it is made again on demand."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            if self._pid == os.getpid():
                pool.close()
            else:
                _INHERITED.append(pool)


def _is_driver_error(exc: BaseException) -> bool:
    mod = type(exc).__module__
    return mod.startswith(("psycopg", "psycopg_pool"))


class _Batch:
    """The context manager :meth:`PostgresConnection.batch` and ``transaction`` return."""

    __slots__ = ("_db", "_atomic", "_savepoints")

    def __init__(self, db: PostgresConnection, atomic: bool, savepoints: bool) -> None:
        self._db = db
        self._atomic = atomic
        self._savepoints = savepoints

    def __enter__(self) -> None:
        db = self._db
        pool = db.pool()
        local = db._local
        depth = getattr(local, "depth", 0)
        if depth == 0:
            psycopg = _psycopg()
            checkout = pool.connection(timeout=CHECKOUT_TIMEOUT_S)
            try:
                conn = checkout.__enter__()
                tx = conn.transaction()
                tx.__enter__()
            except Exception as exc:
                checkout.__exit__(type(exc), exc, exc.__traceback__)
                if isinstance(exc, (psycopg.Error,)) or _is_driver_error(exc):
                    raise db.error(exc) from exc
                raise
            local.checkout, local.conn, local.tx = checkout, conn, tx
            local.savepoints, local.atomic = self._savepoints, self._atomic
        local.depth = depth + 1

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db = self._db
        local = db._local
        local.depth -= 1
        if local.depth:
            return
        checkout, tx, atomic = local.checkout, local.tx, local.atomic
        local.checkout = local.conn = local.tx = None
        psycopg = _psycopg()
        failed: BaseException | None = None
        try:
            if exc is not None and (atomic or isinstance(exc, MetadataUnavailable)):
                # all or nothing, or the database aborted it: undo it whole
                try:  # noqa: SIM105 - contextlib is not imported on this path
                    tx.__exit__(type(exc), exc, tb)
                except psycopg.Error:
                    pass
            else:
                tx.__exit__(None, None, None)  # commit, also when the block raised
        except psycopg.Error as commit_exc:
            failed = commit_exc
        finally:
            checkout.__exit__(None, None, None)
        if failed is not None:
            raise db.error(failed) from failed
