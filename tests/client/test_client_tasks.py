from __future__ import annotations

import datetime

import pytest

from headwater.client import DataArtifact, Run, Step, Task
from headwater.client import provider as provider_mod
from headwater.core.splits import FrameKind, SplitFrame
from headwater.exceptions import ArtifactNotFound, ClientError, InvalidPathspec, ObjectNotFound


@pytest.fixture
def run(builder):
    return builder.linear(params={"alpha": 0.5})


def _task(run, step):
    return Step(f"HelloFlow/{run.run_id}/{step}").task


def test_task_data_attribute_access(run):
    task = _task(run, "a")
    assert task.data.y == 2
    assert task.data.x == 1  # inherited from start
    assert task.data.alpha == 0.5
    assert "y" in task.data and "nope" not in task.data
    assert sorted(task.data) == ["alpha", "x", "y"]
    assert repr(task.data) == "<MetaflowData: alpha, x, y>"
    assert "y" in dir(task.data)


def test_missing_artifact_error_lists_names(run):
    task = _task(run, "a")
    with pytest.raises(ArtifactNotFound) as err:
        _ = task.data.nope
    assert "has no artifact 'nope'" in str(err.value)
    assert "its artifacts are alpha, x, y" in str(err.value)
    assert not hasattr(task.data, "nope")  # an AttributeError, so hasattr/getattr work
    assert getattr(task.data, "nope", 7) == 7
    with pytest.raises(ObjectNotFound):
        task["nope"]
    with pytest.raises(KeyError):
        task["nope"]


def test_a_misspelt_artifact_gets_the_near_name(run):
    task = _task(run, "a")
    with pytest.raises(ArtifactNotFound, match=r"has no artifact 'alhpa': did you mean 'alpha'\?$"):
        _ = task.data.alhpa
    with pytest.raises(ObjectNotFound, match=r"did you mean 'alpha'\?$"):
        task["Alpha"]


def test_private_artifacts_hidden_unless_asked_for(run):
    task = _task(run, "start")
    assert "_secret" not in task.data
    assert "_secret" not in [a.id for a in task]
    assert "_secret" not in dir(task.artifacts)
    with pytest.raises(ArtifactNotFound, match=r"private: read it with task\['_secret'\]"):
        _ = task.data._secret
    assert "_secret" in task
    assert task["_secret"].data == "hidden"
    assert DataArtifact(f"{task.pathspec}/_secret").data == "hidden"


def test_data_loads_only_the_artifact_asked_for(run, monkeypatch):
    task = _task(run, "a")
    conn = task._conn
    loaded = []
    original = conn.datastore.load_value
    monkeypatch.setattr(
        conn.datastore, "load_value", lambda flow, key: loaded.append(key) or original(flow, key)
    )
    reads = []
    original_index = conn.datastore.read_index
    monkeypatch.setattr(
        conn.datastore, "read_index", lambda path: reads.append(path) or original_index(path)
    )
    assert task.data.y == 2
    assert loaded == [task["y"].sha]
    assert task.data.x == 1
    assert loaded == [task["y"].sha, task["x"].sha]
    assert len(reads) == 1  # the index is read once and cached on the task
    list(task.artifacts)
    assert len(loaded) == 2  # listing artifacts loads no value


def test_reading_one_artifact_survives_missing_blobs_of_others(run, root):
    task = _task(run, "a")
    keep = task["y"].sha
    for blob in (root / "HelloFlow" / "blobs").glob("*/*"):
        if blob.name != keep:
            blob.unlink()
    assert Step(f"HelloFlow/{run.run_id}/a").task.data.y == 2


def test_data_artifact_facts(run):
    task = _task(run, "a")
    art = task["y"]
    assert art.id == "y"
    assert art.pathspec == f"{task.pathspec}/y"
    assert art.data == 2
    assert art.type == "builtins.int"
    assert isinstance(art.sha, str) and art.sha
    assert art.size > 0
    assert isinstance(art.created_at, datetime.datetime)
    assert art.finished_at == art.created_at
    assert art.parent == task
    assert art.tags == task.tags
    same = DataArtifact(f"{task.pathspec}/y")
    assert same.sha == art.sha and same.data == 2
    assert task["x"].sha == _task(run, "start")["x"].sha  # inherited: same content key
    assert [a.id for a in task.artifacts] == ["alpha", "x", "y"]
    assert task.artifacts.y.sha == art.sha
    assert "y" in task.artifacts and len(task.artifacts) == 3
    with pytest.raises(InvalidPathspec):
        DataArtifact(task.pathspec)
    with pytest.raises(ObjectNotFound):
        DataArtifact(f"{task.pathspec}/nope")


def test_task_facts(run):
    step = Step(f"HelloFlow/{run.run_id}/a")
    task = step.task
    assert task.parent == step
    assert task.id == task.pathspec.rsplit("/", 1)[1]
    assert repr(task) == f"Task('{task.pathspec}')"
    assert task.successful and task.finished
    assert task.exception is None
    assert task.index is None
    assert task.current_attempt == 0
    assert task.origin_pathspec is None
    assert task.runtime_name == "dev"
    assert isinstance(task.created_at, datetime.datetime)
    assert task.finished_at >= task.created_at
    assert task.tags == Run(f"HelloFlow/{run.run_id}").tags
    assert [p.pathspec for p in task.parent_tasks] == [_task(run, "start").pathspec]
    assert [c.pathspec for c in task.child_tasks] == [_task(run, "end").pathspec]
    assert "y" in task and "nope" not in task
    assert [a.id for a in task] == ["alpha", "x", "y"]


def test_logs(builder):
    run = builder.run()
    builder.task(run, "start", stdout=b"line 1\nline 2\n", stderr=b"warn \xff\n")
    task = Step(f"HelloFlow/{run.run_id}/start").task
    assert task.stdout == "line 1\nline 2\n"
    assert task.stderr == "warn \ufffd\n"
    assert list(task.loglines("stdout")) == [(None, "line 1"), (None, "line 2")]
    assert list(task.loglines("stderr", as_unicode=False)) == [(None, b"warn \xff")]
    assert task.stdout_size == 14
    with pytest.raises(ClientError):
        list(task.loglines("other"))
    empty = builder.task(run, "a")
    assert Task(empty.pathspec).stdout == ""


def test_attempts(builder):
    run = builder.run()
    rec = builder.task(
        run,
        "start",
        {"v": "final"},
        failures=2,
        stdout=[b"try 0\n", b"try 1\n", b"try 2\n"],
        metadata={"host": "box"},
    )
    task = Task(rec.pathspec)
    assert task.current_attempt == 2
    assert task.successful and task.exception is None
    assert task.stdout == "try 2\n"
    assert "failed_attempt_marker" not in task.data
    first = Task(rec.pathspec, attempt=0)
    assert repr(first) == f"Task('{rec.pathspec}', attempt=0)"
    assert first.current_attempt == 0
    assert not first.successful and first.finished
    assert first.stdout == "try 0\n"
    assert first.data.failed_attempt_marker == 0
    assert first.exception.startswith("ValueError: boom 0\nTraceback")
    assert isinstance(first.finished_at, datetime.datetime)
    assert Task(rec.pathspec, attempt=1)["v"].data == "final"
    with pytest.raises(ObjectNotFound, match="has no attempt 3: it has attempts 0 to 2"):
        Task(rec.pathspec, attempt=3)
    with pytest.raises(ClientError):
        Task(rec.pathspec, attempt=-1)
    # the artifact of a chosen attempt remembers it
    art = first["failed_attempt_marker"]
    assert repr(art) == f"DataArtifact('{rec.pathspec}/failed_attempt_marker', attempt=0)"
    assert DataArtifact(f"{rec.pathspec}/failed_attempt_marker", attempt=1).data == 1


def test_failed_task(builder):
    run = builder.run()
    rec = builder.task(run, "start", {"v": 1}, failures=1, succeed=False)
    task = Task(rec.pathspec)
    assert task.current_attempt == 1
    assert not task.successful
    assert task.finished
    assert task.exception.splitlines()[0] == "ValueError: boom 1"
    assert "Traceback (most recent call last)" in task.exception
    assert task.data.failed_attempt_marker == 1  # a failed attempt keeps what it saved


def test_unfinished_task(builder):
    run = builder.run()
    rec = builder.meta.create_task("HelloFlow", run.run_id, "start")
    builder.meta.start_attempt("HelloFlow", run.run_id, "start", rec.task_id, 0)
    task = Task(rec.pathspec)
    assert not task.successful and not task.finished
    assert task.finished_at is None
    assert task.exception is None
    assert list(task) == []
    with pytest.raises(ArtifactNotFound, match="saved no artifacts"):
        _ = task.data.x
    assert Step(f"HelloFlow/{run.run_id}/start").finished_at is None


def test_metadata(builder):
    run = builder.run()
    rec = builder.task(run, "start", failures=1, metadata={"host": "box", "pid": "12"})
    task = Task(rec.pathspec)
    names = [m.name for m in task.metadata]
    assert "host" in names and "attempt-ok" in names
    entry = next(m for m in task.metadata if m.name == "host")
    assert entry.value == "box" and entry.task == task
    assert isinstance(entry.created_at, int)
    assert task.metadata_dict["pid"] == "12"


def test_foreach_tasks(builder):
    run = builder.run()
    start = builder.task(run, "start", {"items": ["a", "b", "c"]}, transition="foreach")
    kids = []
    for i in range(3):
        frame = SplitFrame(FrameKind.FOREACH, "start", start.task_id, 0, i, 3, var="items")
        kids.append(
            builder.task(
                run, "work", {"out": i * 10}, parents=[start], foreach_index=i, stack=[frame]
            )
        )
    step = Step(f"HelloFlow/{run.run_id}/work")
    tasks = list(step)
    assert [t.id for t in tasks] == [k.task_id for k in kids][::-1]  # newest first
    assert sorted(t.index for t in tasks) == [0, 1, 2]
    assert {t.index: t.data.out for t in tasks} == {0: 0, 1: 10, 2: 20}
    assert Task(kids[1].pathspec).foreach_stack() == [(1, 3, "b")]
    assert step.task.id == kids[-1].task_id
    assert list(step.tasks("runtime:dev"))[0].id == kids[-1].task_id
    assert list(step.tasks("missing")) == []
    assert step[kids[0].task_id].index == 0
    assert kids[0].task_id in step and "999" not in step
    assert isinstance(step.finished_at, datetime.datetime)
    assert [c.id for c in Task(start.pathspec).child_tasks] == [k.task_id for k in kids]
    with pytest.raises(ObjectNotFound, match="task 999 not found"):
        step["999"]


def test_task_not_found(run):
    with pytest.raises(ObjectNotFound, match=r"task 99 not found in HelloFlow/\d+/a"):
        Task(f"HelloFlow/{run.run_id}/a/99")
    with pytest.raises(ObjectNotFound, match="run 42 of HelloFlow not found"):
        Task("HelloFlow/42/a/1")
    with pytest.raises(InvalidPathspec):
        Task(f"HelloFlow/{run.run_id}/a")


def test_step_lists_tasks_with_one_query(builder, monkeypatch):
    run = builder.run()
    start = builder.task(run, "start", transition="foreach")
    for i in range(20):
        builder.task(run, "work", {"out": i}, parents=[start], foreach_index=i)
    step = Step(f"HelloFlow/{run.run_id}/work")
    conn = provider_mod.current_connection()
    calls = []
    real = conn.metadata

    class Spy:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(real, name)

    monkeypatch.setattr(step, "_conn_obj", _spying(conn, Spy()))
    values = sorted(t.data.out for t in step)
    assert values == list(range(20))
    assert calls == ["list_tasks"]


def _spying(conn, spy):
    """The same stores as ``conn``, with ``spy`` in front of its metadata."""
    return provider_mod.Connection(
        conn.provider, conn.settings, conn.local_root, spy, conn.datastore
    )
