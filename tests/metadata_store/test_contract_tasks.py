"""Steps, tasks, attempts and task metadata, in every metadata store."""

from __future__ import annotations

import pytest

from headwater.exceptions import MetadataError
from headwater.metadata_store.records import MetadataEntry, TaskStatus


@pytest.fixture
def run(store):
    return store.create_run("F", "alice")


def test_create_task_allocates_sequential_ids_per_run(store, run):
    ids = [store.create_task("F", run.run_id, step).task_id for step in ("start", "a", "a", "end")]
    assert ids == ["1", "2", "3", "4"]
    other = store.create_run("F", "alice")
    assert store.create_task("F", other.run_id, "start").task_id == "1"


def test_create_task_record(store, run):
    task = store.create_task(
        "F",
        run.run_id,
        "body",
        parents=["F/1/start/1", "F/1/split/2"],
        foreach_index=3,
        origin_pathspec="F/0/body/9",
    )
    assert task.status is TaskStatus.RUNNING
    assert task.attempts == 0 and task.successful_attempt is None and task.finished_at is None
    assert task.parents == ("F/1/start/1", "F/1/split/2")
    assert task.foreach_index == 3 and task.origin_pathspec == "F/0/body/9"
    assert task.pathspec == f"F/{run.run_id}/body/{task.task_id}"
    assert store.get_task("F", run.run_id, "body", task.task_id) == task
    plain = store.create_task("F", run.run_id, "start")
    assert plain.parents == () and plain.foreach_index is None and plain.origin_pathspec is None
    assert store.get_task("F", run.run_id, "start", plain.task_id) == plain


def test_get_task_of_unknown_objects_is_none(store, run):
    task = store.create_task("F", run.run_id, "start")
    assert store.get_task("F", run.run_id, "other", task.task_id) is None
    assert store.get_task("F", run.run_id, "start", "999") is None
    assert store.get_task("G", run.run_id, "start", task.task_id) is None


def test_explicit_task_ids(store, run):
    params = store.create_task("F", run.run_id, "_parameters", task_id="0")
    assert params.task_id == "0"
    assert store.create_task("F", run.run_id, "start").task_id == "1"
    # a numeric explicit id moves the counter past it
    assert store.create_task("F", run.run_id, "a", task_id="10").task_id == "10"
    assert store.create_task("F", run.run_id, "a").task_id == "11"
    # a non-numeric one does not
    assert store.create_task("F", run.run_id, "b", task_id="pod-7").task_id == "pod-7"
    assert store.create_task("F", run.run_id, "b").task_id == "12"


def test_registering_an_explicit_task_id_twice_returns_the_first(store, run):
    first = store.create_task("F", run.run_id, "a", task_id="5", parents=["F/1/start/1"])
    store.start_attempt("F", run.run_id, "a", "5", 0)
    again = store.create_task("F", run.run_id, "a", task_id="5")
    assert again.task_id == "5" and again.parents == first.parents and again.attempts == 1
    assert len(store.list_tasks("F", run.run_id, "a")) == 1


def test_create_task_errors(store, run):
    with pytest.raises(MetadataError) as err:
        store.create_task("F", "99", "start")
    assert "F/99" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(MetadataError):
        store.create_task("Unknown", run.run_id, "start")
    with pytest.raises(MetadataError, match="step name"):
        store.create_task("F", run.run_id, "a/b")
    with pytest.raises(MetadataError, match="task id"):
        store.create_task("F", run.run_id, "a", task_id="")
    assert store.list_tasks("F", run.run_id) == []


def test_list_steps_in_first_use_order(store, run):
    for step in ("start", "b", "a", "b", "a", "join", "end"):
        store.create_task("F", run.run_id, step)
    steps = store.list_steps("F", run.run_id)
    assert [s.step for s in steps] == ["start", "b", "a", "join", "end"]
    assert all(s.flow == "F" and s.run_id == run.run_id for s in steps)
    assert store.list_steps("F", "99") == []


def test_list_tasks_in_task_id_order(store, run):
    store.create_task("F", run.run_id, "b", task_id="x")
    for _ in range(11):
        store.create_task("F", run.run_id, "a")
    store.create_task("F", run.run_id, "b")
    all_ids = [t.task_id for t in store.list_tasks("F", run.run_id)]
    assert all_ids == [str(n) for n in range(1, 13)] + ["x"]  # "2" before "10"
    assert [t.task_id for t in store.list_tasks("F", run.run_id, "b")] == ["12", "x"]
    assert len(store.list_tasks("F", run.run_id, "a")) == 11
    assert store.list_tasks("F", run.run_id, "nope") == []


def test_tasks_a_scheduler_named_list_in_split_order(store, run):
    """Tasks with ids a scheduler derived (``step`` without a runtime: ``t-`` and a hash) list
    in the order of their foreach splits, not of their hashes."""
    for index, task_id in enumerate(["t-c9", "t-a1", "t-b5"]):
        store.create_task("F", run.run_id, "body", foreach_index=index, task_id=task_id)
    listed = [t.task_id for t in store.list_tasks("F", run.run_id, "body")]
    assert listed == ["t-c9", "t-a1", "t-b5"]


def test_attempts_and_their_effect_on_the_task(store, run):
    rid = run.run_id
    task = store.create_task("F", rid, "train")
    tid = task.task_id
    store.start_attempt("F", rid, "train", tid, 0)
    assert store.get_task("F", rid, "train", tid).attempts == 1
    (a0,) = store.list_attempts("F", rid, "train", tid)
    assert a0.status is TaskStatus.RUNNING and a0.finished_at is None and a0.exception is None

    store.finish_attempt(
        "F",
        rid,
        "train",
        tid,
        0,
        TaskStatus.FAILED,
        exception="ValueError: bad input",
        traceback="Traceback ...\nValueError: bad input",
    )
    t = store.get_task("F", rid, "train", tid)
    assert t.status is TaskStatus.RUNNING  # a failed attempt may be retried
    assert t.successful_attempt is None and t.finished_at is None

    store.start_attempt("F", rid, "train", tid, 1)
    store.finish_attempt("F", rid, "train", tid, 1, TaskStatus.SUCCEEDED)
    t = store.get_task("F", rid, "train", tid)
    assert t.status is TaskStatus.SUCCEEDED
    assert t.attempts == 2 and t.successful_attempt == 1
    assert t.finished_at is not None and t.finished_at >= t.created_at

    a0, a1 = store.list_attempts("F", rid, "train", tid)
    assert (a0.attempt, a0.status, a0.exception) == (0, TaskStatus.FAILED, "ValueError: bad input")
    assert a0.traceback.endswith("ValueError: bad input")
    assert a0.finished_at >= a0.started_at
    assert (a1.attempt, a1.status, a1.exception, a1.traceback) == (
        1,
        TaskStatus.SUCCEEDED,
        None,
        None,
    )


def test_finish_task_sets_final_status(store, run):
    rid = run.run_id
    tid = store.create_task("F", rid, "train").task_id
    for attempt in (0, 1):
        store.start_attempt("F", rid, "train", tid, attempt)
        store.finish_attempt("F", rid, "train", tid, attempt, "failed", exception="E: x")
    store.finish_task("F", rid, "train", tid, TaskStatus.FAILED)
    t = store.get_task("F", rid, "train", tid)
    assert t.status is TaskStatus.FAILED and t.finished_at is not None and t.attempts == 2
    assert t.successful_attempt is None


def test_finish_task_keeps_the_succeeded_attempts_end(store, run):
    rid = run.run_id
    tid = store.create_task("F", rid, "s").task_id
    store.start_attempt("F", rid, "s", tid, 0)
    store.finish_attempt("F", rid, "s", tid, 0, TaskStatus.SUCCEEDED)
    finished = store.get_task("F", rid, "s", tid).finished_at
    store.finish_task("F", rid, "s", tid, TaskStatus.SUCCEEDED)
    assert store.get_task("F", rid, "s", tid).finished_at == finished


def test_restarting_an_attempt_clears_its_end(store, run):
    rid = run.run_id
    tid = store.create_task("F", rid, "s").task_id
    store.start_attempt("F", rid, "s", tid, 0)
    store.finish_attempt("F", rid, "s", tid, 0, "failed", exception="E: x")
    store.start_attempt("F", rid, "s", tid, 0)
    (a0,) = store.list_attempts("F", rid, "s", tid)
    assert a0.status is TaskStatus.RUNNING and a0.finished_at is None and a0.exception is None


def test_attempt_errors(store, run):
    rid = run.run_id
    with pytest.raises(MetadataError, match="create_task"):
        store.start_attempt("F", rid, "s", "1", 0)
    tid = store.create_task("F", rid, "s").task_id
    with pytest.raises(MetadataError, match="start_attempt"):
        store.finish_attempt("F", rid, "s", tid, 0, TaskStatus.SUCCEEDED)
    store.start_attempt("F", rid, "s", tid, 0)
    with pytest.raises(MetadataError, match="final status"):
        store.finish_attempt("F", rid, "s", tid, 0, TaskStatus.RUNNING)
    with pytest.raises(MetadataError, match="attempt"):
        store.start_attempt("F", rid, "s", tid, -1)
    with pytest.raises(MetadataError, match="not a TaskStatus"):
        store.finish_attempt("F", rid, "s", tid, 0, "ok")
    with pytest.raises(MetadataError, match="create_task"):
        store.finish_task("F", rid, "s", "99", TaskStatus.FAILED)
    # nothing half-done: the task still has its one running attempt
    assert store.get_task("F", rid, "s", tid).status is TaskStatus.RUNNING
    assert [a.status for a in store.list_attempts("F", rid, "s", tid)] == [TaskStatus.RUNNING]


def test_task_metadata_round_trip(store, run):
    rid = run.run_id
    tid = store.create_task("F", rid, "s").task_id
    assert store.get_task_metadata("F", rid, "s", tid) == []
    store.start_attempt("F", rid, "s", tid, 0)
    store.add_task_metadata("F", rid, "s", tid, 0, {"host": "node-1", "pid": "4242"})
    store.finish_attempt(
        "F", rid, "s", tid, 0, "failed", metadata={"peak_rss": "1024", "note": "ünï 🙂\nline"}
    )
    store.start_attempt("F", rid, "s", tid, 1)
    store.finish_attempt("F", rid, "s", tid, 1, "succeeded", metadata={"host": "node-2"})
    entries = store.get_task_metadata("F", rid, "s", tid)
    assert [(e.field, e.value, e.attempt) for e in entries] == [
        ("host", "node-1", 0),
        ("pid", "4242", 0),
        ("peak_rss", "1024", 0),
        ("note", "ünï 🙂\nline", 0),
        ("host", "node-2", 1),
    ]
    assert all(isinstance(e, MetadataEntry) and e.type == e.field for e in entries)
    assert all(e.created_at >= run.created_at for e in entries)
    # metadata belongs to one task only
    other = store.create_task("F", rid, "s").task_id
    assert store.get_task_metadata("F", rid, "s", other) == []


def test_step_metadata_answers_for_every_task_of_a_step_at_once(store, run):
    rid = run.run_id
    tasks = [store.create_task("F", rid, "body").task_id for _ in range(3)]
    elsewhere = store.create_task("F", rid, "end").task_id
    for i, tid in enumerate(tasks):
        store.start_attempt("F", rid, "body", tid, 0)
        store.finish_attempt("F", rid, "body", tid, 0, "failed", metadata={"digest": f"a{i}"})
    store.start_attempt("F", rid, "body", tasks[1], 1)
    store.finish_attempt(
        "F", rid, "body", tasks[1], 1, "succeeded", metadata={"digest": "b1", "host": "h"}
    )
    store.start_attempt("F", rid, "end", elsewhere, 0)
    store.finish_attempt("F", rid, "end", elsewhere, 0, "succeeded", metadata={"digest": "e"})
    entries = store.step_metadata("F", rid, "body", "digest")
    assert [(e.task_id, e.attempt, e.value) for e in entries] == [
        (tasks[0], 0, "a0"),
        (tasks[1], 0, "a1"),
        (tasks[2], 0, "a2"),
        (tasks[1], 1, "b1"),
    ]
    assert store.step_metadata("F", rid, "body", "nosuch") == []
    assert store.step_metadata("F", rid, "nostep", "digest") == []


def test_task_metadata_of_unknown_task_is_an_error(store, run):
    with pytest.raises(MetadataError, match="create_task"):
        store.add_task_metadata("F", run.run_id, "s", "1", 0, {"a": "b"})


@pytest.mark.parametrize(
    "parents",
    [
        [],
        ["F/1/start/1"],
        ["F/1/a/2", "F/1/b/3", "F/1/c/10"],
        ['F/1/we"ird/1', "F/1/b/2"],  # a quote: escaped by json, so the slow path
        ["F/1/stép/1"],  # non-ASCII: escaped as \\u by json
        ["F/1/a, b/1", 'F/1/x", "y/2'],  # the item separator inside an item
    ],
)
def test_task_parents_round_trip(store, run, parents):
    task = store.create_task("F", run.run_id, "join", parents=parents)
    assert store.get_task("F", run.run_id, "join", task.task_id).parents == tuple(parents)
    assert [t.parents for t in store.list_tasks("F", run.run_id, "join")] == [tuple(parents)]
