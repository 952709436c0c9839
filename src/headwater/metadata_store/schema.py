"""Tables and indexes of the SQLite metadata database, and its schema version.

The version lives in ``PRAGMA user_version``. Version 0 means an empty file: the schema is
created in one transaction, so a database is either empty or complete. A database written by
a newer headwater (a higher version) is refused with :class:`UnsupportedFormat`.
"""

from __future__ import annotations

import _sqlite3 as sqlite3  # see sqlite_connection

from headwater.exceptions import MetadataError, UnsupportedFormat

SCHEMA_VERSION = 1

# Every query the store runs is served by one of these keys:
#   runs (flow, run_id)                 get_run, tag writes, task writes
#   runs_newest (flow, run_number)      list_runs / latest_run, newest first
#   runs_by_status (flow, status, n)    latest_successful_run without tags
#   run_tags (flow, run_id, tag)        the tags of listed runs, "has tag" probes
#   run_tags_by_tag (flow, tag, n)      runs carrying a tag, newest first
#   steps (flow, run_id, step)          list_steps, first use of a step
#   tasks (flow, run_id, step, task)    get_task, list_tasks of a run or a step
#   attempts (task..., attempt)         start/finish_attempt, list_attempts
#   task_metadata_of_task (task...)     get_task_metadata
DDL: tuple[str, ...] = (
    """CREATE TABLE flows (
        flow TEXT NOT NULL PRIMARY KEY,
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE runs (
        flow TEXT NOT NULL,
        run_id TEXT NOT NULL,
        run_number INTEGER NOT NULL,
        user TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        finished_at REAL,
        origin_run_id TEXT,
        next_task_number INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (flow, run_id)
    )""",
    "CREATE UNIQUE INDEX runs_newest ON runs (flow, run_number)",
    "CREATE INDEX runs_by_status ON runs (flow, status, run_number)",
    """CREATE TABLE run_tags (
        flow TEXT NOT NULL,
        run_id TEXT NOT NULL,
        run_number INTEGER NOT NULL,
        tag TEXT NOT NULL,
        is_system INTEGER NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (flow, run_id, tag)
    )""",
    "CREATE INDEX run_tags_by_tag ON run_tags (flow, tag, run_number)",
    """CREATE TABLE steps (
        id INTEGER PRIMARY KEY,
        flow TEXT NOT NULL,
        run_id TEXT NOT NULL,
        step TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (flow, run_id, step)
    )""",
    """CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        flow TEXT NOT NULL,
        run_id TEXT NOT NULL,
        step TEXT NOT NULL,
        task_id TEXT NOT NULL,
        task_number INTEGER,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        finished_at REAL,
        attempts INTEGER NOT NULL DEFAULT 0,
        successful_attempt INTEGER,
        parents TEXT,
        foreach_index INTEGER,
        origin_pathspec TEXT,
        UNIQUE (flow, run_id, step, task_id)
    )""",
    """CREATE TABLE attempts (
        flow TEXT NOT NULL,
        run_id TEXT NOT NULL,
        step TEXT NOT NULL,
        task_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        exception TEXT,
        traceback TEXT,
        PRIMARY KEY (flow, run_id, step, task_id, attempt)
    )""",
    """CREATE TABLE task_metadata (
        id INTEGER PRIMARY KEY,
        flow TEXT NOT NULL,
        run_id TEXT NOT NULL,
        step TEXT NOT NULL,
        task_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        field TEXT NOT NULL,
        value TEXT NOT NULL,
        type TEXT NOT NULL,
        created_at REAL NOT NULL
    )""",
    "CREATE INDEX task_metadata_of_task ON task_metadata (flow, run_id, step, task_id)",
)


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _refuse_newer(version: int, path: str) -> None:
    if version > SCHEMA_VERSION:
        raise UnsupportedFormat(
            f"metadata database {path} has schema version {version}, newer than the "
            f"{SCHEMA_VERSION} this headwater reads: upgrade headwater to read it"
        )


def ensure_schema(conn: sqlite3.Connection, path: str) -> None:
    """Create the schema in an empty database, check the version of an existing one.

    ``conn`` must be in autocommit mode (``isolation_level=None``) and not in a transaction.
    """
    version = _user_version(conn)
    if version == SCHEMA_VERSION:
        return
    _refuse_newer(version, path)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(conn)  # another process may have created it meanwhile
        _refuse_newer(version, path)
        if version == 0:
            if conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None:
                raise MetadataError(
                    f"{path} is an SQLite database but not a headwater metadata database: "
                    "point headwater at another root"
                )
            for statement in DDL:
                conn.execute(statement)
        # Migrations from older versions go here: `if version < 2: ...`.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
