"""Several processes and threads sharing one metadata store: unique ids, fork-safety."""

from __future__ import annotations

import multiprocessing
import os
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fork")

WORKERS = 4
PER_WORKER = 15


def _fork_context():
    return multiprocessing.get_context("fork")


def _create_runs(store, barrier, queue):
    # uses the store object inherited from the parent, already connected there
    barrier.wait()
    queue.put([store.create_run("F", "alice").run_id for _ in range(PER_WORKER)])


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


def test_concurrent_run_creation_gives_distinct_sequential_ids(store):
    parent = store
    parent.create_run("F", "alice")
    results = _gather(_fork_context(), _create_runs, (parent,))
    ids = [run_id for chunk in results for run_id in chunk]
    assert len(set(ids)) == len(ids) == WORKERS * PER_WORKER
    assert sorted(int(i) for i in ids) == list(range(2, WORKERS * PER_WORKER + 2))
    for chunk in results:  # each process sees its own runs in increasing order
        assert [int(i) for i in chunk] == sorted(int(i) for i in chunk)
    listed = [r.run_id for r in parent.list_runs("F")]
    assert listed == [str(n) for n in range(WORKERS * PER_WORKER + 1, 0, -1)]


def test_concurrent_task_creation_gives_distinct_ids(store):
    run = store.create_run("F", "alice")
    store.create_task("F", run.run_id, "start")
    results = _gather(_fork_context(), _create_tasks, (store, run.run_id))
    ids = [task_id for chunk in results for task_id in chunk]
    assert sorted(int(i) for i in ids) == list(range(2, WORKERS * PER_WORKER + 2))
    assert len(store.list_tasks("F", run.run_id, "body")) == WORKERS * PER_WORKER


def test_store_used_in_parent_then_in_forked_child(store):
    run = store.create_run("F", "alice", tags=["p"])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: use the very object the parent opened
        code = 1
        try:
            child_run = store.create_run("F", "alice", tags=["c"])
            task = store.create_task("F", run.run_id, "start")
            store.start_attempt("F", run.run_id, "start", task.task_id, 0)
            store.finish_attempt("F", run.run_id, "start", task.task_id, 0, "succeeded")
            seen = store.get_run("F", run.run_id) == run
            os.write(write, f"{child_run.run_id} {task.task_id} {seen}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        message = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert message == "2 1 True"
    # the parent's own connection still works and sees the child's writes
    assert [r.run_id for r in store.list_runs("F")] == ["2", "1"]
    assert store.get_run("F", "2").tags == ("c",)
    assert store.get_task("F", run.run_id, "start", "1").successful_attempt == 0
    assert store.create_run("F", "alice").run_id == "3"


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
