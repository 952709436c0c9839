"""Runs and flows in the SQLite metadata store: ids, status, ordering, reopening, versions."""

from __future__ import annotations

import sqlite3

import pytest

from headwater.exceptions import MetadataError, UnsupportedFormat
from headwater.metadata_store.records import RunStatus
from headwater.metadata_store.sqlite import SqliteMetadata
from headwater.metadata_store.store import MetadataStore


def test_implements_the_interface(store):
    for name in MetadataStore.__dict__:
        if not name.startswith("_"):
            assert callable(getattr(store, name)), name


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


def test_create_run_registers_flow_and_allocates_sequential_ids(store, db_path):
    r1 = store.create_run("FlowA", "alice")
    r2 = store.create_run("FlowA", "bob")
    other = store.create_run("FlowB", "alice")
    r3 = store.create_run("FlowA", "alice")
    assert [r1.run_id, r2.run_id, r3.run_id] == ["1", "2", "3"]
    assert other.run_id == "1"
    assert db_path.exists()
    assert [f.flow for f in store.list_flows()] == ["FlowA", "FlowB"]
    flow = store.get_flow("FlowA")
    assert flow is not None and flow.created_at <= r1.created_at
    assert store.get_flow("Nope") is None


def test_create_run_record_round_trips(store):
    run = store.create_run("F", "alice", origin_run_id="7")
    assert run.flow == "F" and run.user == "alice"
    assert run.status is RunStatus.RUNNING
    assert run.finished_at is None
    assert run.origin_run_id == "7"
    assert store.get_run("F", run.run_id) == run
    assert store.get_run("F", "99") is None
    assert store.get_run("Other", run.run_id) is None


def test_set_run_status_sets_and_clears_finished_at(store):
    run = store.create_run("F", "alice")
    store.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    done = store.get_run("F", run.run_id)
    assert done.status is RunStatus.COMPLETED
    assert done.finished_at is not None and done.finished_at >= run.created_at
    store.set_run_status("F", run.run_id, "failed")  # the enum's value is accepted too
    assert store.get_run("F", run.run_id).status is RunStatus.FAILED
    store.set_run_status("F", run.run_id, RunStatus.RUNNING)
    again = store.get_run("F", run.run_id)
    assert again.status is RunStatus.RUNNING and again.finished_at is None


def test_set_run_status_of_unknown_run_or_status_is_a_one_line_error(store):
    with pytest.raises(MetadataError) as err:
        store.set_run_status("F", "1", RunStatus.COMPLETED)
    assert "F/1" in str(err.value) and "\n" not in str(err.value)
    run = store.create_run("F", "alice")
    with pytest.raises(MetadataError, match="not a RunStatus"):
        store.set_run_status("F", run.run_id, "done")


def test_list_runs_newest_first_with_limit(store):
    for _ in range(12):
        store.create_run("F", "alice")
    store.create_run("G", "alice")
    runs = store.list_runs("F")
    assert [r.run_id for r in runs] == [str(n) for n in range(12, 0, -1)]
    assert [r.run_id for r in store.list_runs("F", limit=3)] == ["12", "11", "10"]
    assert store.list_runs("F", limit=0) == []
    assert store.list_runs("Nope") == []


def test_list_runs_by_status_with_tags_and_limit(store):
    for n in range(1, 11):  # 1..10: even ones completed, every third tagged "x"
        run = store.create_run("F", "alice", tags=["x"] if n % 3 == 0 else [])
        if n % 2 == 0:
            store.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    done = store.list_runs("F", status=RunStatus.COMPLETED)
    assert [r.run_id for r in done] == ["10", "8", "6", "4", "2"]
    assert [r.run_id for r in store.list_runs("F", status="completed", limit=2)] == ["10", "8"]
    assert [r.run_id for r in store.list_runs("F", tags=["x"], status="running")] == ["9", "3"]
    assert store.list_runs("F", status=RunStatus.FAILED) == []
    with pytest.raises(MetadataError, match="not a RunStatus"):
        store.list_runs("F", status="finished")


def test_latest_run_and_latest_successful_run(store):
    assert store.latest_run("F") is None
    a = store.create_run("F", "alice")
    b = store.create_run("F", "alice")
    c = store.create_run("F", "alice")
    store.set_run_status("F", a.run_id, RunStatus.COMPLETED)
    store.set_run_status("F", b.run_id, RunStatus.COMPLETED)
    store.set_run_status("F", c.run_id, RunStatus.FAILED)
    assert store.latest_run("F").run_id == c.run_id
    assert store.latest_successful_run("F").run_id == b.run_id
    d = store.create_run("F", "alice")
    assert store.latest_run("F").run_id == d.run_id
    assert store.latest_successful_run("F").run_id == b.run_id
    assert store.latest_successful_run("Nope") is None


def test_run_ids_keep_increasing_after_reopen(db_path):
    s1 = SqliteMetadata(db_path)
    s1.create_run("F", "alice")
    s1.create_run("F", "alice")
    s1.close()
    s2 = SqliteMetadata(db_path)
    assert s2.create_run("F", "alice").run_id == "3"
    s2.close()


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


def test_everything_is_visible_from_a_new_object(db_path):
    s1 = SqliteMetadata(db_path)
    run = s1.create_run("F", "alice", tags=["x"], system_tags=["user:alice"])
    task = s1.create_task("F", run.run_id, "start")
    s1.start_attempt("F", run.run_id, "start", task.task_id, 0)
    s1.finish_attempt(
        "F", run.run_id, "start", task.task_id, 0, "succeeded", metadata={"host": "h1"}
    )
    s1.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    # s1 stays open: a second object (another process, another time) sees it all at once
    s2 = SqliteMetadata(db_path)
    assert s2.get_run("F", run.run_id) == s1.get_run("F", run.run_id)
    assert s2.latest_successful_run("F", ["x"]).run_id == run.run_id
    assert s2.get_task("F", run.run_id, "start", task.task_id).successful_attempt == 0
    assert [a.attempt for a in s2.list_attempts("F", run.run_id, "start", task.task_id)] == [0]
    assert s2.get_task_metadata("F", run.run_id, "start", task.task_id)[0].value == "h1"
    s1.close()
    s2.close()


def test_close_then_use_again_reopens(store):
    store.create_run("F", "alice")
    store.close()
    store.close()  # twice is fine
    assert store.create_run("F", "alice").run_id == "2"


def test_pickled_store_points_at_the_same_database(store):
    import pickle

    store.create_run("F", "alice")
    copy = pickle.loads(pickle.dumps(store))
    assert copy.path == store.path
    assert copy.get_run("F", "1") == store.get_run("F", "1")
    copy.close()


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


def test_create_run_with_an_explicit_id_is_idempotent(store):
    # A scheduler names its runs; every task of the run may register it.
    first = store.create_run("F", "alice", tags=["t"], run_id="argo-7f3a")
    again = store.create_run("F", "alice", tags=["other"], run_id="argo-7f3a")
    assert first.run_id == again.run_id == "argo-7f3a"
    assert again.tags == ("t",)
    assert [r.run_id for r in store.list_runs("F")] == ["argo-7f3a"]
    # Allocated ids go on after it, newest first.
    assert store.create_run("F", "alice").run_id == "2"
    assert [r.run_id for r in store.list_runs("F")] == ["2", "argo-7f3a"]


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a\\b", "a\0b"])
def test_names_that_would_escape_a_datastore_path_are_refused(store, bad):
    with pytest.raises(MetadataError, match="is not valid"):
        store.create_run("F", "alice", run_id=bad)
    run = store.create_run("F", "alice")
    with pytest.raises(MetadataError, match="is not valid"):
        store.create_task("F", run.run_id, "start", task_id=bad)
    with pytest.raises(MetadataError, match="is not valid"):
        store.create_task("F", run.run_id, bad)
