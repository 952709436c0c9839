"""Runs and flows, in every metadata store: ids, status, ordering, reopening, pickling."""

from __future__ import annotations

import pickle

import pytest

from headwater.exceptions import MetadataError
from headwater.metadata_store.records import RunStatus
from headwater.metadata_store.store import MetadataStore


def test_implements_the_interface(store):
    for name in MetadataStore.__dict__:
        if not name.startswith("_"):
            assert callable(getattr(store, name)), name


def test_reads_of_an_empty_store_are_empty(store):
    assert store.list_flows() == []
    assert store.get_flow("F") is None
    assert store.get_run("F", "1") is None
    assert store.list_runs("F") == []
    assert store.latest_run("F") is None
    assert store.latest_successful_run("F") is None
    assert store.list_steps("F", "1") == []
    assert store.list_tasks("F", "1") == []
    assert store.get_task("F", "1", "start", "1") is None
    assert store.list_attempts("F", "1", "start", "1") == []
    assert store.get_task_metadata("F", "1", "start", "1") == []


def test_create_run_registers_flow_and_allocates_sequential_ids(store):
    r1 = store.create_run("FlowA", "alice")
    r2 = store.create_run("FlowA", "bob")
    other = store.create_run("FlowB", "alice")
    r3 = store.create_run("FlowA", "alice")
    assert [r1.run_id, r2.run_id, r3.run_id] == ["1", "2", "3"]
    assert other.run_id == "1"
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


def test_run_ids_keep_increasing_after_reopen(open_store):
    s1 = open_store()
    s1.create_run("F", "alice")
    s1.create_run("F", "alice")
    s1.close()
    s2 = open_store()
    assert s2.create_run("F", "alice").run_id == "3"


def test_everything_is_visible_from_a_new_object(open_store):
    s1 = open_store()
    run = s1.create_run("F", "alice", tags=["x"], system_tags=["user:alice"])
    task = s1.create_task("F", run.run_id, "start")
    s1.start_attempt("F", run.run_id, "start", task.task_id, 0)
    s1.finish_attempt(
        "F", run.run_id, "start", task.task_id, 0, "succeeded", metadata={"host": "h1"}
    )
    s1.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    # s1 stays open: a second object (another process, another time) sees it all at once
    s2 = open_store()
    assert s2.get_run("F", run.run_id) == s1.get_run("F", run.run_id)
    assert s2.latest_successful_run("F", ["x"]).run_id == run.run_id
    assert s2.get_task("F", run.run_id, "start", task.task_id).successful_attempt == 0
    assert [a.attempt for a in s2.list_attempts("F", run.run_id, "start", task.task_id)] == [0]
    assert s2.get_task_metadata("F", run.run_id, "start", task.task_id)[0].value == "h1"


def test_close_then_use_again_reopens(store):
    store.create_run("F", "alice")
    store.close()
    store.close()  # twice is fine
    assert store.create_run("F", "alice").run_id == "2"


def test_pickled_store_reads_the_same_records(store):
    store.create_run("F", "alice", tags=["x"])
    copy = pickle.loads(pickle.dumps(store))
    try:
        assert copy.get_run("F", "1") == store.get_run("F", "1")
        assert copy.create_run("F", "alice").run_id == "2"
        assert [r.run_id for r in store.list_runs("F")] == ["2", "1"]
    finally:
        copy.close()


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
