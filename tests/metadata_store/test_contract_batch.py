"""store.batch(), in every metadata store: the writes made inside it are committed together
at its end, and nobody else sees them before; a failing write is undone alone."""

from __future__ import annotations

import pytest

from headwater.exceptions import MetadataError
from headwater.metadata_store.records import TaskStatus


def test_writes_in_a_batch_appear_together_when_it_ends(open_store):
    store, other = open_store(), open_store()  # other: its own connection, as another process
    run = store.create_run("F", "alice")
    with store.batch():
        for n in ("1", "2", "3"):
            task = store.create_task("F", run.run_id, "body", task_id=n)
            assert task.task_id == n and task.status is TaskStatus.RUNNING
            store.start_attempt("F", run.run_id, "body", n, 0)
        assert other.list_tasks("F", run.run_id) == []  # nobody else sees them yet
    assert [t.task_id for t in other.list_tasks("F", run.run_id)] == ["1", "2", "3"]
    assert all(t.attempts == 1 for t in other.list_tasks("F", run.run_id))


def test_a_batch_sees_its_own_writes(store):
    run = store.create_run("F", "alice")
    with store.batch():
        for _ in range(3):
            task = store.create_task("F", run.run_id, "body")
            store.start_attempt("F", run.run_id, "body", task.task_id, 0)
        assert [t.task_id for t in store.list_tasks("F", run.run_id)] == ["1", "2", "3"]
        assert all(t.attempts == 1 for t in store.list_tasks("F", run.run_id))


def test_a_failing_write_ends_the_batch_and_keeps_the_writes_before_it(open_store):
    store = open_store()
    run = store.create_run("F", "alice")
    with pytest.raises(MetadataError, match="was never started"), store.batch():
        store.create_task("F", run.run_id, "start", task_id="1")
        # raises here, or for the service (which sends the batch at its end) when it ends
        store.finish_attempt("F", run.run_id, "start", "1", 0, TaskStatus.SUCCEEDED)
        store.start_attempt("F", run.run_id, "start", "1", 0)
    (task,) = open_store().list_tasks("F", run.run_id)
    assert task.task_id == "1" and task.attempts == 0  # kept, and nothing after the failure
    assert task.status is TaskStatus.RUNNING  # the failed finish left nothing behind


def test_a_failing_write_caught_inside_a_batch_is_undone_alone(open_store, store_kind):
    store = open_store()
    run = store.create_run("F", "alice")
    if store_kind == "service":
        # The service's client sends a batch when it ends: a failing write raises nothing
        # inside it (there is nothing to catch yet), and its error comes at the end.
        with pytest.raises(MetadataError, match="was never started"), store.batch():
            kept = store.create_task("F", run.run_id, "start")  # sent at once: it has an id
            store.finish_attempt("F", run.run_id, "start", kept.task_id, 0, TaskStatus.SUCCEEDED)
            store.start_attempt("F", run.run_id, "start", kept.task_id, 0)
        (task,) = open_store().list_tasks("F", run.run_id)
        assert task.task_id == kept.task_id and task.attempts == 0  # nothing after the failure
        return
    with store.batch():
        kept = store.create_task("F", run.run_id, "start")
        with pytest.raises(MetadataError, match="was never started"):
            store.finish_attempt("F", run.run_id, "start", kept.task_id, 0, TaskStatus.SUCCEEDED)
        store.start_attempt("F", run.run_id, "start", kept.task_id, 0)
    (task,) = open_store().list_tasks("F", run.run_id)
    assert task.task_id == kept.task_id and task.attempts == 1
    assert task.status is TaskStatus.RUNNING


def test_a_batch_left_by_an_exception_keeps_the_writes_it_made(open_store):
    store = open_store()
    run = store.create_run("F", "alice")
    with pytest.raises(KeyboardInterrupt), store.batch():
        store.create_task("F", run.run_id, "start", task_id="1")
        raise KeyboardInterrupt
    assert len(open_store().list_tasks("F", run.run_id)) == 1
    # ... and the store is usable again: the next write is its own transaction.
    store.create_task("F", run.run_id, "end")
    assert len(open_store().list_tasks("F", run.run_id)) == 2


def test_batches_nest_and_commit_at_the_outermost_end(open_store):
    store, other = open_store(), open_store()
    run = store.create_run("F", "alice")
    with store.batch():
        with store.batch():
            store.create_task("F", run.run_id, "start", task_id="1")
        assert other.list_tasks("F", run.run_id) == []
    assert len(other.list_tasks("F", run.run_id)) == 1
