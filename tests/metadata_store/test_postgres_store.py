"""The PostgreSQL store's own machinery: schema migrations on a live database, versions it
refuses, errors that name the database without its password, indexes behind the run queries,
the run listing the service sends as the database wrote it."""

from __future__ import annotations

import json
import threading
import time

import pytest

from headwater.exceptions import MetadataUnavailable, UnsupportedFormat
from headwater.metadata_store.postgres import PostgresMetadata
from headwater.metadata_store.postgres_schema import SCHEMA_VERSION, current_version, migrate
from headwater.metadata_store.records import RunStatus

psycopg = pytest.importorskip("psycopg")  # under CI the `postgres` fixture fails instead


def test_a_version_1_database_is_upgraded_while_a_reader_is_connected(postgres):
    dsn = postgres.create_database("upgrade")
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert migrate(conn, "test", target=1) == 0
        assert current_version(conn) == 1
        conn.execute("INSERT INTO flows VALUES ('F', 1.0)")
        conn.execute(
            "INSERT INTO runs (flow, run_id, run_number, username, status, created_at)"
            " VALUES ('F', '1', 1, 'alice', 'completed', 2.0)"
        )
        conn.execute("INSERT INTO run_tags VALUES ('F', '1', 1, 'user:alice', true, 0)")
    # a reader of the old schema, reading all along
    reader = psycopg.connect(dsn, autocommit=True)
    stop, reads, errors = threading.Event(), [], []

    def read_all_along():
        while not stop.is_set():
            try:
                reads.append(reader.execute("SELECT run_id, status FROM runs").fetchall())
            except Exception as exc:  # pragma: no cover - what the test looks for
                errors.append(exc)
            time.sleep(0.005)

    thread = threading.Thread(target=read_all_along)
    thread.start()
    try:
        while len(reads) < 5:
            time.sleep(0.01)
        store = PostgresMetadata(dsn)
        old = store.get_run("F", "1")  # the first use upgrades the database
        assert (old.user, old.status, old.system_tags) == (
            "alice",
            RunStatus.COMPLETED,
            ("user:alice",),
        )
        before = len(reads)
        new = store.create_run("F", "bob", held=True)  # uses the columns version 2 added
        assert new.run_id == "2"
        while len(reads) < before + 5:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert reads[-1] == [("1", "completed"), ("2", "running")]
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert current_version(conn) == SCHEMA_VERSION
    store.close()
    reader.close()


def test_migrating_twice_or_concurrently_is_harmless(postgres):
    dsn = postgres.create_database("twice")
    stores = [PostgresMetadata(dsn) for _ in range(4)]
    errors = []

    def first_use(store):
        try:
            store.list_flows()
        except Exception as exc:  # pragma: no cover - what the test looks for
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert current_version(conn) == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM headwater_schema").fetchone()[0] == 1
    for s in stores:
        s.close()


def test_a_newer_schema_version_is_refused_in_one_line(postgres):
    dsn = postgres.create_database("newer")
    with PostgresMetadata(dsn) as store:
        store.list_flows()
    postgres.sql("UPDATE headwater_schema SET version = 99", "newer")
    with pytest.raises(UnsupportedFormat) as err, PostgresMetadata(dsn) as store:
        store.list_flows()
    message = str(err.value)
    assert "99" in message and "upgrade headwater" in message and "\n" not in message

    from fixtures.service import cli

    done = cli("service", "--db", dsn, "--port", "1")
    assert done.returncode == 1
    assert (
        done.stderr.count("\n") == 1 and "99" in done.stderr and "upgrade headwater" in done.stderr
    )


def test_an_unreachable_database_is_a_one_line_error_without_the_password():
    from fixtures.postgres import free_port

    dsn = f"postgresql://alice:s3cret-pw@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(MetadataUnavailable) as err:
        PostgresMetadata(dsn).list_flows()
    message = str(err.value)
    assert "s3cret-pw" not in message and "\n" not in message
    assert "postgresql://alice@127.0.0.1" in message and "PostgreSQL is running" in message


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.list_runs("F"),
        lambda s: s.list_runs("F", tags=["a"], limit=5),
        lambda s: s.list_runs_json("F", tags=["a"]),
        lambda s: s.latest_successful_run("F"),
        lambda s: s.latest_successful_run("F", ["a", "b"]),
        lambda s: s.list_tasks("F", "1"),
        lambda s: s.get_task_metadata("F", "1", "s", "1"),
    ],
)
def test_every_query_is_served_by_an_index(pg_dsn, call):
    """With sequential scans disabled, a query that still scans a whole table has no index."""
    store = PostgresMetadata(pg_dsn, pool_max=1)
    store.create_run("F", "alice", tags=["a", "b"])
    pool = store._db.pool()
    plans = []
    with pool.connection() as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET plan_cache_mode = force_custom_plan")
    original = store._db.read

    def explained(sql, params=()):
        plans.append(original("EXPLAIN " + sql, params))
        return original(sql, params)

    store._db.read = explained
    call(store)
    text = "\n".join(row[0] for plan in plans for row in plan)
    assert plans and "Seq Scan" not in text, text
    store.close()


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"tags": ["a"]},
        {"limit": 2},
        {"status": "completed"},
        {"tags": ["b"], "status": RunStatus.RUNNING, "limit": 1},
        {"tags": "runtime:dev"},
        {"limit": 0},
    ],
)
def test_the_json_listing_is_the_records_listing(pg_dsn, args):
    """What the service sends for list_runs (JSON made by the database) decodes to the runs
    list_runs returns: same runs, order, fields, tags and timestamps."""
    store = PostgresMetadata(pg_dsn, pool_max=1)
    for n in range(5):
        tags = ["a", 'q"uo\\te ü', "x'; DROP TABLE runs; --"] if n % 2 else ["b"]
        run = store.create_run("F", "alice", tags=tags, system_tags=["runtime:dev"])
        if n % 3 == 0:
            store.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    records = store.list_runs("F", **args)
    assert records or args == {"limit": 0}
    answer = json.loads(store.list_runs_json("F", **args))
    assert answer == [
        {
            **r._asdict(),
            "status": r.status.value,
            "tags": [*r.tags],
            "system_tags": [*r.system_tags],
        }
        for r in records
    ]
    store.close()
