"""Several processes sharing one SQLite metadata database: unique ids, fork-safety, WAL reads."""

from __future__ import annotations

import multiprocessing
import os
import sys

import pytest

from headwater.metadata_store.records import RunStatus
from headwater.metadata_store.sqlite import SqliteMetadata

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fork")

WORKERS = 4
PER_WORKER = 15


def _fork_context():
    return multiprocessing.get_context("fork")


def _create_runs(path, barrier, queue):
    store = SqliteMetadata(path)
    barrier.wait()
    queue.put([store.create_run("F", f"w{os.getpid()}").run_id for _ in range(PER_WORKER)])
    store.close()


def _create_tasks(store, run_id, barrier, queue):
    # uses the store object inherited from the parent, already connected there
    barrier.wait()
    queue.put([store.create_task("F", run_id, "body").task_id for _ in range(PER_WORKER)])


def _gather(ctx, target, args):
    barrier = ctx.Barrier(WORKERS)
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, queue)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


def test_concurrent_run_creation_gives_distinct_sequential_ids(db_path):
    parent = SqliteMetadata(db_path)
    parent.create_run("F", "parent")
    results = _gather(_fork_context(), _create_runs, (db_path,))
    ids = [run_id for chunk in results for run_id in chunk]
    assert len(set(ids)) == len(ids) == WORKERS * PER_WORKER
    assert sorted(int(i) for i in ids) == list(range(2, WORKERS * PER_WORKER + 2))
    for chunk in results:  # each process sees its own runs in increasing order
        assert [int(i) for i in chunk] == sorted(int(i) for i in chunk)
    listed = [r.run_id for r in parent.list_runs("F")]
    assert listed == [str(n) for n in range(WORKERS * PER_WORKER + 1, 0, -1)]
    parent.close()


def test_concurrent_task_creation_gives_distinct_ids(store):
    run = store.create_run("F", "alice")
    store.create_task("F", run.run_id, "start")
    results = _gather(_fork_context(), _create_tasks, (store, run.run_id))
    ids = [task_id for chunk in results for task_id in chunk]
    assert sorted(int(i) for i in ids) == list(range(2, WORKERS * PER_WORKER + 2))
    assert len(store.list_tasks("F", run.run_id, "body")) == WORKERS * PER_WORKER


def test_store_used_in_parent_then_in_forked_child(store):
    run = store.create_run("F", "parent", tags=["p"])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: use the very object the parent opened
        code = 1
        try:
            child_run = store.create_run("F", "child", tags=["c"])
            task = store.create_task("F", run.run_id, "start")
            store.start_attempt("F", run.run_id, "start", task.task_id, 0)
            store.finish_attempt("F", run.run_id, "start", task.task_id, 0, "succeeded")
            seen = store.get_run("F", run.run_id) == run
            own_connection = store._db._conn_pid == os.getpid()  # not the parent's connection
            os.write(write, f"{child_run.run_id} {task.task_id} {seen} {own_connection}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        message = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert message == "2 1 True True"
    # the parent's own connection still works and sees the child's writes
    assert [r.run_id for r in store.list_runs("F")] == ["2", "1"]
    assert store.get_run("F", "2").user == "child"
    assert store.get_task("F", run.run_id, "start", "1").successful_attempt == 0
    assert store.create_run("F", "parent").run_id == "3"


def _hold_write_transaction(path, ready, release):
    store = SqliteMetadata(path)
    with store._db.write() as conn:
        conn.execute("UPDATE runs SET user = 'changed', status = 'failed'")
        ready.set()
        release.wait(60)
    store.close()


def test_reads_are_not_blocked_by_a_writer_in_another_process(store, db_path):
    run = store.create_run("F", "alice", tags=["x"])
    store.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    ctx = _fork_context()
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


def test_one_store_shared_by_threads(store):
    from concurrent.futures import ThreadPoolExecutor

    run = store.create_run("F", "alice")

    def work(_):
        task = store.create_task("F", run.run_id, "body")
        store.start_attempt("F", run.run_id, "body", task.task_id, 0)
        store.finish_attempt("F", run.run_id, "body", task.task_id, 0, "succeeded")
        return store.create_run("F", "alice").run_id

    with ThreadPoolExecutor(4) as pool:
        run_ids = list(pool.map(work, range(40)))
    assert sorted(int(i) for i in run_ids) == list(range(2, 42))
    tasks = store.list_tasks("F", run.run_id)
    assert [t.task_id for t in tasks] == [str(n) for n in range(1, 41)]
    assert all(t.status == "succeeded" and t.successful_attempt == 0 for t in tasks)
