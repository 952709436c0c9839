"""A run created ``held`` by a process that dies before recording how it ended reads as
INTERRUPTED (its unfinished tasks and attempts FAILED), in every metadata store; while that
process lives, the run stays RUNNING. SQLite knows at once (a file lock); PostgreSQL and the
service once the run's lease (HEADWATER_RUN_LEASE_S) has run out without a heartbeat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from headwater.metadata_store.abandoned_runs import DIED
from headwater.metadata_store.records import RunStatus, TaskStatus

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

LEASE_S = 1.0

HOLDER = textwrap.dedent(
    """
    import sys, time
    kind, address = sys.argv[1], sys.argv[2]
    if kind == "sqlite":
        from headwater.metadata_store.sqlite import SqliteMetadata as Store
    elif kind == "postgres":
        from headwater.metadata_store.postgres import PostgresMetadata as Store
    else:
        from headwater.metadata_store.service_client import ServiceMetadata as Store
    md = Store(address)
    run = md.create_run("F", "alice", held=True)
    task = md.create_task("F", run.run_id, "start")
    md.start_attempt("F", run.run_id, "start", task.task_id, 0)
    print(run.run_id, flush=True)
    time.sleep(120)
    """
)


def _holder(open_store) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "HEADWATER_RUN_LEASE_S": str(LEASE_S)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, open_store.kind, open_store.address],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    run_id = proc.stdout.readline().strip()
    assert run_id, "the holder process failed to create its run"
    return proc, run_id


def _status_within(store, run_id, wanted, seconds):
    deadline = time.monotonic() + seconds
    while True:
        status = store.get_run("F", run_id).status
        if status is wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_a_live_holder_keeps_its_run_running_past_its_lease(open_store):
    store = open_store()
    proc, run_id = _holder(open_store)
    try:
        time.sleep(LEASE_S * 2.5)  # several lease lengths: only heartbeats keep it alive
        assert store.get_run("F", run_id).status is RunStatus.RUNNING
        assert [r.run_id for r in store.list_runs("F", status=RunStatus.RUNNING)] == [run_id]
        assert store.list_runs("F", status=RunStatus.INTERRUPTED) == []
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_leaves_an_interrupted_run_with_failed_tasks(open_store):
    store = open_store()
    proc, run_id = _holder(open_store)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _status_within(store, run_id, RunStatus.INTERRUPTED, LEASE_S + 10) is (
        RunStatus.INTERRUPTED
    )
    run = store.get_run("F", run_id)
    assert run.finished_at is not None and run.finished_at >= run.created_at
    (task,) = store.list_tasks("F", run_id)
    assert task.status is TaskStatus.FAILED
    (attempt,) = store.list_attempts("F", run_id, "start", task.task_id)
    assert attempt.status is TaskStatus.FAILED and attempt.exception == DIED
    # recorded once, for every reader, and by every way of listing runs
    assert open_store().get_run("F", run_id).status is RunStatus.INTERRUPTED
    assert store.latest_run("F").status is RunStatus.INTERRUPTED
    assert store.list_runs("F", status=RunStatus.RUNNING) == []
    assert [r.run_id for r in store.list_runs("F", status=RunStatus.INTERRUPTED)] == [run_id]


def test_a_run_that_records_its_end_is_not_interrupted_later(open_store, monkeypatch):
    store = open_store()
    monkeypatch.setenv("HEADWATER_RUN_LEASE_S", str(LEASE_S))
    run = store.create_run("F", "alice", held=True)
    store.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    store.close()  # no heartbeat any more
    time.sleep(LEASE_S * 1.5)
    assert open_store().get_run("F", run.run_id).status is RunStatus.COMPLETED
