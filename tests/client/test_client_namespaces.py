from __future__ import annotations

import pytest

from headwater.client import (
    Flow,
    Metaflow,
    Run,
    Step,
    Task,
    default_namespace,
    get_namespace,
    namespace,
)
from headwater.exceptions import MetaflowNamespaceMismatch, NamespaceMismatch


def test_default_namespace_is_the_user(builder, monkeypatch):
    monkeypatch.setenv("HEADWATER_USER", "bob")
    assert get_namespace() == "user:bob"
    assert default_namespace() == "user:bob"


def test_namespace_switch_and_back(builder):
    assert namespace(None) is None
    assert get_namespace() is None
    assert namespace("team:x") == "team:x"
    assert get_namespace() == "team:x"
    assert default_namespace() == "user:alice"
    assert get_namespace() == "user:alice"


def test_runs_of_other_users_are_hidden_by_default(builder):
    mine = builder.linear(user="alice")
    theirs = builder.linear(user="bob")
    runs = list(Flow("HelloFlow"))
    assert [r.id for r in runs] == [mine.run_id]
    assert Flow("HelloFlow").latest_run.id == mine.run_id
    namespace(None)
    assert [r.id for r in Flow("HelloFlow")] == [theirs.run_id, mine.run_id]


def test_run_outside_namespace_raises_mismatch_with_hint(builder):
    theirs = builder.linear(user="bob")
    with pytest.raises(NamespaceMismatch) as err:
        Run(f"HelloFlow/{theirs.run_id}")
    msg = str(err.value)
    assert f"Run('HelloFlow/{theirs.run_id}')" in msg
    assert "'user:alice'" in msg
    assert "namespace(None)" in msg and "namespace('user:bob')" in msg
    assert "\n" not in msg
    assert MetaflowNamespaceMismatch is NamespaceMismatch
    # children of the run are outside the namespace too
    with pytest.raises(NamespaceMismatch):
        Step(f"HelloFlow/{theirs.run_id}/start")
    with pytest.raises(NamespaceMismatch):
        Task(f"HelloFlow/{theirs.run_id}/start/1")
    with pytest.raises(NamespaceMismatch):
        Flow("HelloFlow")[theirs.run_id]
    # but they are reachable without the check, or in the owner's namespace
    assert Run(f"HelloFlow/{theirs.run_id}", _namespace_check=False).successful
    namespace("user:bob")
    assert Run(f"HelloFlow/{theirs.run_id}").successful


def test_any_tag_can_be_a_namespace(builder):
    tagged = builder.linear(user="bob", tags=["experiment 1"])
    builder.linear(user="bob")
    namespace("experiment 1")
    assert [r.id for r in Flow("HelloFlow")] == [tagged.run_id]
    namespace("runtime:dev")  # system tags count as well
    assert len(list(Flow("HelloFlow"))) == 2


def test_runs_filtered_by_tags_within_namespace(builder):
    a = builder.linear(tags=["red"])
    b = builder.linear(tags=["red", "big"])
    builder.linear(tags=["big"])
    builder.linear(user="bob", tags=["red"])
    flow = Flow("HelloFlow")
    assert [r.id for r in flow.runs("red")] == [b.run_id, a.run_id]
    assert [r.id for r in flow.runs("red", "big")] == [b.run_id]
    assert list(flow.runs("nope")) == []
    namespace(None)
    assert len(list(flow.runs("red"))) == 3


def test_flows_listed_only_when_they_have_a_visible_run(builder):
    builder.linear(flow="MineFlow", user="alice")
    builder.linear(flow="TheirFlow", user="bob")
    assert [f.id for f in Metaflow().flows] == ["MineFlow"]
    assert [f.id for f in Metaflow()] == ["MineFlow"]
    namespace(None)
    assert [f.id for f in Metaflow().flows] == ["MineFlow", "TheirFlow"]
    assert repr(Metaflow()) == "Metaflow()"


def test_flow_without_visible_runs_is_a_namespace_mismatch(builder):
    builder.linear(flow="TheirFlow", user="bob")
    with pytest.raises(NamespaceMismatch) as err:
        Flow("TheirFlow")
    msg = str(err.value)
    assert "'TheirFlow' has no run in namespace 'user:alice'" in msg
    assert "namespace('user:bob')" in msg and "\n" not in msg
    with pytest.raises(NamespaceMismatch):
        Metaflow()["TheirFlow"]
    flow = Flow("TheirFlow", _namespace_check=False)
    assert flow.latest_run is None
    assert flow.latest_successful_run is None
    assert list(flow) == []
    assert not flow.is_in_namespace()
    namespace(None)
    assert Flow("TheirFlow").is_in_namespace()


def test_namespace_checked_at_call_time_for_listings(builder):
    builder.linear(user="bob")
    flow = Flow("HelloFlow", _namespace_check=False)
    assert flow.latest_run is None
    namespace(None)
    assert flow.latest_run is not None


def test_namespace_rejects_non_strings():
    with pytest.raises(TypeError):
        namespace(3)  # type: ignore[arg-type]


def test_empty_namespace_means_every_run_as_on_the_command_line(builder):
    builder.linear(user="bob")
    assert namespace("") is None
    assert get_namespace() is None
    assert len(list(Flow("HelloFlow"))) == 1
