"""Tables of the PostgreSQL metadata database, as numbered migrations, and how a database is
brought to the current version while others use it.

The version lives in the one-row table ``headwater_schema``; no table means version 0 (an empty
database). Each migration is a list of statements run in one transaction together with the
version update, under a transaction-level advisory lock, so concurrent starters never migrate
twice and a reader sees either the old schema or the new one, never half of it. Migrations only
add (tables, nullable columns, indexes): a process still running the previous headwater keeps
working while the database is upgraded under it. A database at a newer version than this
headwater knows is refused with :class:`UnsupportedFormat`.

Text columns that are names use the "C" collation, so names sort by code point, as in SQLite.
"""

from __future__ import annotations

from headwater.exceptions import UnsupportedFormat

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# Every query the store runs is served by one of these keys:
#   runs (flow, run_id)                    get_run, tag writes, task writes, ownership checks
#   runs_newest (flow, run_number)         list_runs / latest_run, newest first
#   runs_by_status (flow, status, n)       latest_successful_run, status filters
#   run_tags (flow, run_id, tag)           the tags of listed runs, "has tag" probes
#   run_tags_by_tag (flow, tag, n)         runs carrying a tag, newest first
#   steps (flow, run_id, step)             list_steps, first use of a step
#   tasks (flow, run_id, step, task)       get_task, list_tasks of a run or a step
#   attempts (task..., attempt)            start/finish_attempt, list_attempts
#   task_metadata_of_task (task..., id)    get_task_metadata
#   runs_leased (flow) partial             finding runs whose runtime stopped renewing its lease
_NAME = 'TEXT COLLATE "C" NOT NULL'

MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 1: the records (the same tables as the SQLite store's schema version 1).
    1: (
        f"""CREATE TABLE flows (
            flow {_NAME} PRIMARY KEY,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        f"""CREATE TABLE runs (
            flow {_NAME},
            run_id {_NAME},
            run_number BIGINT NOT NULL,
            username TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION,
            origin_run_id TEXT,
            next_task_number BIGINT NOT NULL DEFAULT 1,
            PRIMARY KEY (flow, run_id)
        )""",
        "CREATE UNIQUE INDEX runs_newest ON runs (flow, run_number)",
        "CREATE INDEX runs_by_status ON runs (flow, status, run_number)",
        f"""CREATE TABLE run_tags (
            flow {_NAME},
            run_id {_NAME},
            run_number BIGINT NOT NULL,
            tag {_NAME},
            is_system BOOLEAN NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (flow, run_id, tag)
        )""",
        "CREATE INDEX run_tags_by_tag ON run_tags (flow, tag, run_number)",
        f"""CREATE TABLE steps (
            id BIGSERIAL PRIMARY KEY,
            flow {_NAME},
            run_id {_NAME},
            step {_NAME},
            created_at DOUBLE PRECISION NOT NULL,
            UNIQUE (flow, run_id, step)
        )""",
        f"""CREATE TABLE tasks (
            id BIGSERIAL PRIMARY KEY,
            flow {_NAME},
            run_id {_NAME},
            step {_NAME},
            task_id {_NAME},
            task_number BIGINT,
            status TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION,
            attempts INTEGER NOT NULL DEFAULT 0,
            successful_attempt INTEGER,
            parents TEXT[],
            foreach_index BIGINT,
            origin_pathspec TEXT,
            UNIQUE (flow, run_id, step, task_id)
        )""",
        f"""CREATE TABLE attempts (
            flow {_NAME},
            run_id {_NAME},
            step {_NAME},
            task_id {_NAME},
            attempt INTEGER NOT NULL,
            status TEXT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION,
            exception TEXT,
            traceback TEXT,
            PRIMARY KEY (flow, run_id, step, task_id, attempt)
        )""",
        f"""CREATE TABLE task_metadata (
            id BIGSERIAL PRIMARY KEY,
            flow {_NAME},
            run_id {_NAME},
            step {_NAME},
            task_id {_NAME},
            attempt INTEGER NOT NULL,
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            type TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX task_metadata_of_task ON task_metadata (flow, run_id, step, task_id, id)",
    ),
    # 2: run leases. A process running a run renews lease_expires_at (database clock, epoch
    # seconds) every lease_s / 3; a RUNNING run whose lease expired reads as INTERRUPTED.
    2: (
        "ALTER TABLE runs ADD COLUMN lease_expires_at DOUBLE PRECISION",
        "ALTER TABLE runs ADD COLUMN lease_s DOUBLE PRECISION",
        "CREATE INDEX runs_leased ON runs (flow)"
        " WHERE status = 'running' AND lease_expires_at IS NOT NULL",
    ),
    # 3: the metadata service: per-user tokens (only their sha256 is kept) and the responses
    # to write requests by idempotency key, so a retried request is applied once.
    3: (
        """CREATE TABLE service_tokens (
            token_id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            token_sha256 TEXT NOT NULL UNIQUE,
            created_at DOUBLE PRECISION NOT NULL,
            revoked_at DOUBLE PRECISION
        )""",
        "CREATE INDEX service_tokens_of_user ON service_tokens (username)",
        """CREATE TABLE service_requests (
            request_key TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            response TEXT
        )""",
        "CREATE INDEX service_requests_age ON service_requests (created_at)",
    ),
}

SCHEMA_VERSION = max(MIGRATIONS)

# Tables holding records (what a test empties between tests); the service's tables are apart.
RECORD_TABLES = ("flows", "runs", "run_tags", "steps", "tasks", "attempts", "task_metadata")

_LOCK_KEY = 0x6865616477617465  # "headwate": the advisory lock migrations take


def current_version(conn: Any) -> int:
    """The schema version of the database ``conn`` is connected to (0: none yet)."""
    # The catalog as a table (an MVCC read), not to_regclass (a cache that may lag behind a
    # migration another session has just committed).
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables"
        " WHERE schemaname = current_schema() AND tablename = 'headwater_schema')"
    ).fetchone()
    if not row[0]:
        return 0
    row = conn.execute("SELECT max(version) FROM headwater_schema").fetchone()
    return int(row[0] or 0)


def refuse_newer(version: int, where: str) -> None:
    if version > SCHEMA_VERSION:
        raise UnsupportedFormat(
            f"metadata database {where} has schema version {version}, newer than the "
            f"{SCHEMA_VERSION} this headwater reads: upgrade headwater to use it"
        )


def migrate(conn: Any, where: str, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to version ``target`` (default: the current one); returns the
    version it was at. ``conn`` is an autocommit psycopg connection, not in a transaction.
    Raises UnsupportedFormat for a database newer than this headwater."""
    version = current_version(conn)
    refuse_newer(version, where)
    if version >= target:
        return version
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '60s'")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        version = current_version(conn)  # another process may have migrated meanwhile
        refuse_newer(version, where)
        if version == 0:
            conn.execute("CREATE TABLE headwater_schema (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO headwater_schema (version) VALUES (0)")
        for number in range(version + 1, target + 1):
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
        if target > version:
            conn.execute("UPDATE headwater_schema SET version = %s", (target,))
    return version
