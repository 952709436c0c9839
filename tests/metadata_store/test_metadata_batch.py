"""store.batch(): writes made inside it are committed together at its end; a failing write is
undone alone; other processes see nothing of the batch until it ends."""

from __future__ import annotations

import pytest

from headwater.exceptions import MetadataError
from headwater.metadata_store.records import TaskStatus
from headwater.metadata_store.sqlite import SqliteMetadata


def test_writes_in_a_batch_appear_together_when_it_ends(store, db_path):
    run = store.create_run("F", "alice")
    other = SqliteMetadata(db_path)  # its own connection, as another process would have
    with store.batch():
        for _ in range(3):
            task = store.create_task("F", run.run_id, "body")
            store.start_attempt("F", run.run_id, "body", task.task_id, 0)
        assert len(store.list_tasks("F", run.run_id)) == 3  # the batch sees its own writes
        assert other.list_tasks("F", run.run_id) == []  # nobody else does yet
    assert [t.task_id for t in other.list_tasks("F", run.run_id)] == ["1", "2", "3"]
    assert all(t.attempts == 1 for t in other.list_tasks("F", run.run_id))
    other.close()


def test_a_failing_write_in_a_batch_is_undone_alone(store, db_path):
    run = store.create_run("F", "alice")
    with store.batch():
        kept = store.create_task("F", run.run_id, "start")
        with pytest.raises(MetadataError, match="was never started"):
            store.finish_attempt("F", run.run_id, "start", kept.task_id, 0, TaskStatus.SUCCEEDED)
        store.start_attempt("F", run.run_id, "start", kept.task_id, 0)
    fresh = SqliteMetadata(db_path)
    (task,) = fresh.list_tasks("F", run.run_id)
    assert task.task_id == kept.task_id and task.attempts == 1
    assert task.status is TaskStatus.RUNNING  # the failed finish left nothing behind
    fresh.close()


def test_a_batch_left_by_an_exception_keeps_the_writes_it_made(store, db_path):
    run = store.create_run("F", "alice")
    with pytest.raises(KeyboardInterrupt), store.batch():
        store.create_task("F", run.run_id, "start")
        raise KeyboardInterrupt
    assert len(SqliteMetadata(db_path).list_tasks("F", run.run_id)) == 1
    # ... and the store is usable again: the next write is its own transaction.
    store.create_task("F", run.run_id, "end")
    assert len(SqliteMetadata(db_path).list_tasks("F", run.run_id)) == 2


def test_batches_nest_and_commit_at_the_outermost_end(store, db_path):
    run = store.create_run("F", "alice")
    other = SqliteMetadata(db_path)
    with store.batch():
        with store.batch():
            store.create_task("F", run.run_id, "start")
        assert other.list_tasks("F", run.run_id) == []
    assert len(other.list_tasks("F", run.run_id)) == 1
    other.close()
