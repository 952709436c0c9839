"""The SQLite store's own machinery: the database file (created on first write only), WAL,
its schema version, statements and query plans, readers never blocked by a writer."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys

import pytest

from headwater.exceptions import MetadataError, UnsupportedFormat
from headwater.metadata_store.records import RunStatus
from headwater.metadata_store.sqlite import SqliteMetadata


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "root" / "metadata.db"


@pytest.fixture
def store(db_path):
    s = SqliteMetadata(db_path)
    yield s
    s.close()


def test_reads_of_a_missing_database_are_empty_and_create_nothing(db_path):
    s = SqliteMetadata(db_path)
    assert s.list_flows() == []
    assert s.get_flow("F") is None
    assert s.get_run("F", "1") is None
    assert s.list_runs("F") == []
    assert s.latest_run("F") is None
    assert s.latest_successful_run("F") is None
    assert s.list_steps("F", "1") == []
    assert s.list_tasks("F", "1") == []
    assert s.get_task("F", "1", "start", "1") is None
    assert s.list_attempts("F", "1", "start", "1") == []
    assert s.get_task_metadata("F", "1", "start", "1") == []
    assert not db_path.parent.exists()


def test_list_runs_is_one_statement(store):
    """Tags of all listed runs come with the runs, not one query per run."""
    for i in range(30):
        store.create_run("F", "alice", tags=[f"t{i}", "common"], system_tags=["user:alice"])
    statements: list[str] = []
    store._db.connection().set_trace_callback(statements.append)
    runs = store.list_runs("F", tags=["common", "user:alice"])
    latest = store.latest_successful_run("F", tags=["common"])
    store._db.connection().set_trace_callback(None)
    assert len(runs) == 30 and all("common" in r.tags for r in runs)
    assert latest is None
    assert len(statements) == 2


@pytest.mark.parametrize(
    "tags, status, limit",
    [
        ((), None, None),
        ((), RunStatus.COMPLETED, 1),
        (("a",), None, 5),
        (("a", "b"), RunStatus.COMPLETED, 1),
    ],
)
def test_run_queries_use_indexes(store, tags, status, limit):
    from headwater.metadata_store.sqlite_queries import runs_query

    store.create_run("F", "alice", tags=["a", "b"])
    sql, params = runs_query("F", list(tags), status, limit)
    plan = [row[3] for row in store._db.connection().execute("EXPLAIN QUERY PLAN " + sql, params)]
    for line in plan:
        # a full scan of a table would read as "SCAN runs" / "SCAN run_tags" / "SCAN t0"
        if line.startswith("SCAN"):
            assert line == "SCAN r", plan  # the materialised subquery, not a table


def test_newer_schema_version_is_refused(db_path):
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    s = SqliteMetadata(db_path)
    with pytest.raises(UnsupportedFormat) as err:
        s.list_flows()
    assert "999" in str(err.value) and "upgrade headwater" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(UnsupportedFormat):
        s.create_run("F", "alice")


def test_foreign_sqlite_database_is_refused(db_path):
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE something (x)")
    conn.commit()
    conn.close()
    with pytest.raises(MetadataError, match="not a headwater metadata database"):
        SqliteMetadata(db_path).list_flows()


def test_a_file_that_is_not_a_database_is_a_one_line_error(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not sqlite at all, just some text " * 100)
    with pytest.raises(MetadataError) as err:
        SqliteMetadata(db_path).create_run("F", "alice")
    assert str(db_path) in str(err.value) and "\n" not in str(err.value)


def test_database_uses_wal_and_records_its_version(store, db_path):
    from headwater.metadata_store.schema import SCHEMA_VERSION

    store.create_run("F", "alice")
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_pickled_store_points_at_the_same_database(store):
    import pickle

    store.create_run("F", "alice")
    copy = pickle.loads(pickle.dumps(store))
    assert copy.path == store.path
    assert copy.get_run("F", "1") == store.get_run("F", "1")
    copy.close()


def _hold_write_transaction(path, ready, release):
    store = SqliteMetadata(path)
    with store._db.write() as conn:
        conn.execute("UPDATE runs SET user = 'changed', status = 'failed'")
        ready.set()
        release.wait(60)
    store.close()


@pytest.mark.skipif(sys.platform == "win32", reason="needs fork")
def test_reads_are_not_blocked_by_a_writer_in_another_process(store, db_path):
    run = store.create_run("F", "alice", tags=["x"])
    store.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_write_transaction, args=(db_path, ready, release))
    proc.start()
    try:
        assert ready.wait(60)
        # the uncommitted change is invisible, and reading does not wait for the writer
        reader = SqliteMetadata(db_path)
        assert reader.get_run("F", run.run_id).user == "alice"
        assert reader.latest_successful_run("F", ["x"]).run_id == run.run_id
        assert store.list_runs("F")[0].status is RunStatus.COMPLETED
    finally:
        release.set()
        proc.join(60)
    assert proc.exitcode == 0
    # once committed, every reader sees it at once
    assert reader.get_run("F", run.run_id).user == "changed"
    assert store.latest_successful_run("F") is None
    reader.close()
