"""A run whose runtime dies without recording how it ended reads as INTERRUPTED, not RUNNING
forever; a live runtime's run stays RUNNING; runs created without a lease are left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from headwater.metadata_store.abandoned_runs import DIED
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.metadata_store.run_leases import LEASE_DIR
from headwater.metadata_store.sqlite import SqliteMetadata

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="leases need fcntl")


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "root" / "metadata.db"


@pytest.fixture
def store(db_path):
    s = SqliteMetadata(db_path)
    yield s
    s.close()


# Creates a run (held or not), one task with a running attempt, prints the run id, then waits.
HOLDER = textwrap.dedent(
    """
    import sys, time
    from headwater.metadata_store.sqlite import SqliteMetadata
    md = SqliteMetadata(sys.argv[1])
    run = md.create_run("F", "alice", held=sys.argv[2] == "held")
    task = md.create_task("F", run.run_id, "start")
    md.start_attempt("F", run.run_id, "start", task.task_id, 0)
    print(run.run_id, flush=True)
    if sys.argv[3] == "wait":
        time.sleep(60)
    """
)


def _holder(db_path, held: bool, wait: bool) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLDER,
            str(db_path),
            "held" if held else "no",
            "wait" if wait else "exit",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    run_id = proc.stdout.readline().strip()
    assert run_id, "the holder process failed to create its run"
    return proc, run_id


def _lease_file(db_path, run_id: str):
    return db_path.parent / LEASE_DIR / "F" / run_id


def test_a_live_runtime_keeps_its_run_running(db_path, store):
    proc, run_id = _holder(db_path, held=True, wait=True)
    try:
        assert store.get_run("F", run_id).status is RunStatus.RUNNING
        assert [r.run_id for r in store.list_runs("F", status=RunStatus.RUNNING)] == [run_id]
        assert store.list_runs("F", status=RunStatus.INTERRUPTED) == []
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_runtime_leaves_an_interrupted_run_with_failed_tasks(db_path, store):
    proc, run_id = _holder(db_path, held=True, wait=True)
    assert _lease_file(db_path, run_id).exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    run = store.get_run("F", run_id)
    assert run.status is RunStatus.INTERRUPTED
    assert run.finished_at is not None and run.finished_at >= run.created_at
    (task,) = store.list_tasks("F", run_id)
    assert task.status is TaskStatus.FAILED
    (attempt,) = store.list_attempts("F", run_id, "start", task.task_id)
    assert attempt.status is TaskStatus.FAILED
    assert attempt.exception == DIED
    # Recorded once for every reader, and the lease file is gone with it.
    assert not _lease_file(db_path, run_id).exists()
    other = SqliteMetadata(db_path)
    assert other.get_run("F", run_id).status is RunStatus.INTERRUPTED
    other.close()


@pytest.mark.parametrize("how", ["list_runs", "latest_run", "status_filter"])
def test_every_run_listing_reports_a_dead_runtimes_run_as_interrupted(db_path, store, how):
    store.create_run("F", "alice")  # an older run, finished
    store.set_run_status("F", "1", RunStatus.COMPLETED)
    proc, run_id = _holder(db_path, held=True, wait=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if how == "list_runs":
        statuses = {r.run_id: r.status for r in store.list_runs("F")}
        assert statuses == {"1": RunStatus.COMPLETED, run_id: RunStatus.INTERRUPTED}
    elif how == "latest_run":
        assert store.latest_run("F").status is RunStatus.INTERRUPTED
    else:
        assert store.list_runs("F", status=RunStatus.RUNNING) == []
        assert [r.run_id for r in store.list_runs("F", status=RunStatus.INTERRUPTED)] == [run_id]


def test_a_run_that_records_its_end_gives_up_its_lease(db_path):
    md = SqliteMetadata(db_path)
    run = md.create_run("F", "alice", held=True)
    assert _lease_file(db_path, run.run_id).exists()
    md.set_run_status("F", run.run_id, RunStatus.FAILED)
    assert not _lease_file(db_path, run.run_id).exists()
    md.close()
    assert SqliteMetadata(db_path).get_run("F", run.run_id).status is RunStatus.FAILED


def test_a_run_held_by_this_process_stays_running_for_its_other_readers(db_path):
    md = SqliteMetadata(db_path)
    run = md.create_run("F", "alice", held=True)
    reader = SqliteMetadata(db_path)  # another object: its own file descriptor on the lease
    assert reader.get_run("F", run.run_id).status is RunStatus.RUNNING
    md.set_run_status("F", run.run_id, RunStatus.COMPLETED)


def test_a_run_created_without_a_lease_is_left_running(db_path, store):
    proc, run_id = _holder(db_path, held=False, wait=False)
    proc.wait()
    assert proc.returncode == 0
    assert store.get_run("F", run_id).status is RunStatus.RUNNING
    assert not (db_path.parent / LEASE_DIR).exists()


def test_an_unwritable_lease_directory_is_a_clear_error(db_path, tmp_path):
    md = SqliteMetadata(db_path)
    md.create_run("F", "alice")  # creates the database
    (db_path.parent / LEASE_DIR).write_text("not a directory")
    with pytest.raises(Exception, match="could not create the lease of run F/2") as info:
        md.create_run("F", "alice", held=True)
    assert "writable" in str(info.value)
    # Nothing half-made: the failed run was never registered.
    assert [r.run_id for r in md.list_runs("F")] == ["1"]
    assert os.path.isfile(db_path.parent / LEASE_DIR)
