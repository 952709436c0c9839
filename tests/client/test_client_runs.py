from __future__ import annotations

import datetime

import pytest

from headwater.client import Flow, Metaflow, Run, Step, namespace
from headwater.exceptions import (
    InvalidPathspec,
    MetaflowNotFound,
    ObjectNotFound,
    TagError,
)
from headwater.metadata_store.records import RunStatus


def test_latest_run_and_latest_successful_run(builder):
    ok = builder.linear(status=RunStatus.COMPLETED)
    failed = builder.linear(status=RunStatus.FAILED)
    flow = Flow("HelloFlow")
    assert flow.latest_run.id == failed.run_id
    assert flow.latest_successful_run.id == ok.run_id
    assert flow.latest_successful_run.data.z == 3


def test_runs_are_listed_newest_first(builder):
    ids = [builder.linear().run_id for _ in range(4)]
    flow = Flow("HelloFlow")
    assert [r.id for r in flow] == ids[::-1]
    assert [r.id for r in flow.runs()] == ids[::-1]
    assert flow[ids[1]].id == ids[1]
    assert ids[0] in flow and "99" not in flow
    assert all(r.parent.id == "HelloFlow" for r in flow)


def test_completed_run(builder):
    rec = builder.linear(tags=["nightly"], params={"alpha": 0.5})
    run = Run(f"HelloFlow/{rec.run_id}")
    assert run.id == rec.run_id
    assert run.pathspec == f"HelloFlow/{rec.run_id}"
    assert repr(run) == f"Run('HelloFlow/{rec.run_id}')"
    assert run.successful and run.finished
    assert isinstance(run.created_at, datetime.datetime)
    assert isinstance(run.finished_at, datetime.datetime)
    assert run.finished_at >= run.created_at
    assert run.end_task.pathspec.startswith(f"HelloFlow/{rec.run_id}/end/")
    assert run.data.z == 3 and run.data.y == 2 and run.data.x == 1
    assert run.data.alpha == 0.5  # parameters reach every task
    assert run.user_tags == {"nightly"}
    assert run.system_tags == {"user:alice", "runtime:dev", "python_version:3.12.0"}
    assert run.tags == run.user_tags | run.system_tags
    assert run.origin_pathspec is None
    assert run.code is None
    assert run.parent.id == "HelloFlow"
    assert run.status == "completed"


def test_steps_newest_first_and_lookup(builder):
    rec = builder.linear()
    run = Run(f"HelloFlow/{rec.run_id}")
    assert [s.id for s in run] == ["end", "a", "start"]
    assert [s.id for s in run.steps()] == ["end", "a", "start"]
    assert [s.id for s in run.steps("runtime:dev")] == ["end", "a", "start"]
    assert list(run.steps("absent-tag")) == []
    assert run["a"].pathspec == f"HelloFlow/{rec.run_id}/a"
    assert "a" in run and "nope" not in run
    assert run["start"].parent.id == rec.run_id


def test_private_steps_hidden_from_iteration(builder):
    rec = builder.linear()
    builder.meta.create_task("HelloFlow", rec.run_id, "_parameters", task_id="0")
    run = Run(f"HelloFlow/{rec.run_id}")
    assert [s.id for s in run] == ["end", "a", "start"]
    assert run["_parameters"].id == "_parameters"  # still reachable by name


def test_failed_run_has_no_end_task(builder):
    rec = builder.linear(status=RunStatus.FAILED)
    run = Run(f"HelloFlow/{rec.run_id}")
    assert not run.successful
    assert not run.finished
    assert run.finished_at is None
    assert run.end_task is None
    assert run.data is None
    assert not run["a"].task.successful


def test_running_run(builder):
    rec = builder.linear(status=RunStatus.RUNNING)
    run = Run(f"HelloFlow/{rec.run_id}")
    assert not run.successful and not run.finished
    assert run.end_task is None


def test_end_step_with_another_name(builder):
    run = builder.run()
    start = builder.task(run, "start", {"x": 1})
    builder.task(run, "finish", {"z": 9}, parents=[start], transition="end")
    # still running (status not set): the end is recognised by the task's transition
    assert Run(f"HelloFlow/{run.run_id}").data.z == 9
    builder.finish(run)
    assert Run(f"HelloFlow/{run.run_id}").end_task.parent.id == "finish"


def test_tag_operations(builder):
    rec = builder.linear(tags=["a"])
    run = Run(f"HelloFlow/{rec.run_id}")
    run.add_tag("b")
    run.add_tags(["c", "d"])
    assert run.user_tags == {"a", "b", "c", "d"}
    run.remove_tag("a")
    run.remove_tags(["b"])
    assert run.user_tags == {"c", "d"}
    run.replace_tag("c", "e")
    assert run.user_tags == {"d", "e"}
    run.replace_tags(["d", "e"], ["f"])
    assert run.user_tags == {"f"}
    # the change is stored, not just cached
    assert Run(f"HelloFlow/{rec.run_id}").user_tags == {"f"}
    assert [r.id for r in Flow("HelloFlow").runs("f")] == [rec.run_id]
    with pytest.raises(TagError):
        run.remove_tag("user:alice")
    with pytest.raises(TagError):
        run.add_tag("runtime:other")
    assert "user:alice" in run.tags


def test_resumed_run_origin(builder):
    first = builder.linear()
    second = builder.run(origin_run_id=first.run_id)
    assert Run(f"HelloFlow/{second.run_id}").origin_pathspec == f"HelloFlow/{first.run_id}"


def test_missing_objects_raise_not_found(builder):
    rec = builder.linear()
    with pytest.raises(ObjectNotFound, match="flow 'NoFlow' not found"):
        Flow("NoFlow")
    with pytest.raises(ObjectNotFound) as err:
        Run("HelloFlow/42")
    assert str(err.value) == (
        "run 42 of HelloFlow not found: list runs with Flow('HelloFlow').runs() or check the id"
    )
    with pytest.raises(ObjectNotFound, match="step 'nope' not found .*its steps are start, a, end"):
        Run(f"HelloFlow/{rec.run_id}")["nope"]
    with pytest.raises(ObjectNotFound, match="step 'nope'"):
        Step(f"HelloFlow/{rec.run_id}/nope")
    with pytest.raises(ObjectNotFound, match="run 42 of HelloFlow"):
        Step("HelloFlow/42/start")
    with pytest.raises(ObjectNotFound):
        Flow("HelloFlow")["42"]
    # the not-found error is a KeyError too (as Metaflow's), and keeps Metaflow's name
    with pytest.raises(KeyError):
        Flow("HelloFlow")["42"]
    assert MetaflowNotFound is ObjectNotFound
    with pytest.raises(ObjectNotFound):
        Metaflow()["NoFlow"]


def test_a_misspelt_name_gets_the_near_one(builder):
    rec = builder.linear()
    with pytest.raises(ObjectNotFound, match=r"flow 'Helloflow' not found .*: did you mean 'Hel"):
        Flow("Helloflow")
    with pytest.raises(ObjectNotFound, match=r"step 'strat' not found .*: did you mean 'start'\?$"):
        Run(f"HelloFlow/{rec.run_id}")["strat"]
    with pytest.raises(ObjectNotFound, match=r"did you mean 'start'\?$"):
        Step(f"HelloFlow/{rec.run_id}/Start")


@pytest.mark.parametrize(
    ("cls", "pathspec"),
    [
        (Flow, ""),
        (Flow, "A/1"),
        (Run, "HelloFlow"),
        (Run, "HelloFlow//"),
        (Run, "HelloFlow/1/start"),
        (Step, "HelloFlow/1"),
        (Run, None),
    ],
)
def test_malformed_pathspecs(builder, cls, pathspec):
    with pytest.raises(InvalidPathspec) as err:
        cls(pathspec)
    assert "\n" not in str(err.value)


def test_run_of_flow_with_many_runs_in_other_namespace(builder):
    builder.linear(user="bob")
    namespace(None)
    assert Flow("HelloFlow").latest_run.successful
