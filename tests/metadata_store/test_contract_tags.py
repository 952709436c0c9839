"""Run tags, in every metadata store: validation, protection, ordering, filtering."""

from __future__ import annotations

import pytest

from headwater.core.tags import MAX_USER_TAGS
from headwater.exceptions import MetadataError, TagError
from headwater.metadata_store.records import RunStatus

SYSTEM = ["user:alice", "runtime:dev", "python_version:3.11"]


def test_create_run_stores_user_and_system_tags_in_order(store):
    run = store.create_run("F", "alice", tags=["zeta", "alpha", "zeta"], system_tags=SYSTEM)
    assert run.tags == ("zeta", "alpha")
    assert run.system_tags == tuple(SYSTEM)
    assert run.all_tags == {"zeta", "alpha", *SYSTEM}
    assert store.get_run("F", run.run_id) == run


def test_unicode_and_spaces_round_trip_exactly(store):
    tags = ["  leading and trailing  ", "naïve café ☕", "日本語 タグ", "tab\there", "a" * 500]
    run = store.create_run("F", "alice", tags=tags)
    assert store.get_run("F", run.run_id).tags == tuple(tags)
    more = store.add_tags("F", run.run_id, ["Ünïcödé 🙂"])
    assert more.tags == (*tags, "Ünïcödé 🙂")
    assert [r.run_id for r in store.list_runs("F", tags=["naïve café ☕"])] == [run.run_id]
    assert store.list_runs("F", tags=["naïve café"]) == []


@pytest.mark.parametrize(
    "bad",
    [
        [""],
        ["   "],
        ["user:mallory"],
        ["project:x"],
        ["a" * 501],
        [7],
        [f"t{i}" for i in range(51)],
    ],
)
def test_create_run_with_bad_user_tags_creates_nothing(store, bad):
    with pytest.raises(TagError):
        store.create_run("F", "alice", tags=bad)
    assert store.list_runs("F") == []
    assert store.create_run("F", "alice").run_id == "1"


def test_add_tags_appends_and_returns_updated_run(store):
    run = store.create_run("F", "alice", tags=["a"], system_tags=SYSTEM)
    updated = store.add_tags("F", run.run_id, ["b", "a", "c"])
    assert updated.tags == ("a", "b", "c")
    assert updated.system_tags == tuple(SYSTEM)
    assert store.get_run("F", run.run_id) == updated
    assert store.add_tags("F", run.run_id, []) == updated


def test_add_tags_rejects_system_looking_tags(store):
    run = store.create_run("F", "alice")
    with pytest.raises(TagError, match="system tag"):
        store.add_tags("F", run.run_id, ["ok", "user:bob"])
    assert store.get_run("F", run.run_id).tags == ()


def test_more_than_fifty_user_tags_is_refused_atomically(store):
    run = store.create_run("F", "alice", tags=[f"t{i}" for i in range(MAX_USER_TAGS - 1)])
    full = store.add_tags("F", run.run_id, ["last"])
    assert len(full.tags) == MAX_USER_TAGS
    with pytest.raises(TagError, match="at most 50"):
        store.add_tags("F", run.run_id, ["one too many"])
    assert store.get_run("F", run.run_id) == full
    # re-adding a tag the run has does not count twice
    assert store.add_tags("F", run.run_id, ["t0"]) == full
    # system tags do not count toward the limit
    assert len(store.create_run("F", "a", tags=full.tags, system_tags=SYSTEM).tags) == 50


def test_remove_tags(store):
    run = store.create_run("F", "alice", tags=["a", "b", "c"], system_tags=SYSTEM)
    updated = store.remove_tags("F", run.run_id, ["b"])
    assert updated.tags == ("a", "c")
    assert store.get_run("F", run.run_id).tags == ("a", "c")
    # removing a tag the run does not carry is a no-op (Metaflow behaviour)
    assert store.remove_tags("F", run.run_id, ["never there", "b"]) == updated


def test_system_tags_cannot_be_removed(store):
    run = store.create_run("F", "alice", tags=["a"], system_tags=SYSTEM)
    with pytest.raises(TagError) as err:
        store.remove_tags("F", run.run_id, ["a", "user:alice"])
    assert str(err.value) == "tag 'user:alice' is a system tag and cannot be removed"
    # nothing was removed, not even the user tag listed before it
    assert store.get_run("F", run.run_id) == run
    # a system tag without a reserved prefix is protected too
    other = store.create_run("F", "alice", system_tags=["date:2024-01-01"])
    with pytest.raises(TagError, match="system tag"):
        store.remove_tags("F", other.run_id, ["date:2024-01-01"])
    with pytest.raises(TagError):
        store.replace_tags("F", run.run_id, ["runtime:dev"], ["x"])
    assert store.get_run("F", run.run_id) == run


def test_replace_tags_is_remove_then_add_atomically(store):
    run = store.create_run("F", "alice", tags=["a", "b", "c"], system_tags=SYSTEM)
    updated = store.replace_tags("F", run.run_id, ["a", "c"], ["d", "c"])
    assert updated.tags == ("b", "c", "d")  # a tag in both stays where it was
    assert updated.system_tags == tuple(SYSTEM)
    with pytest.raises(TagError):
        store.replace_tags("F", run.run_id, ["b"], [""])
    assert store.get_run("F", run.run_id).tags == ("b", "c", "d")


def test_replace_tags_counts_after_removal(store):
    run = store.create_run("F", "alice", tags=[f"t{i}" for i in range(MAX_USER_TAGS)])
    updated = store.replace_tags("F", run.run_id, ["t0"], ["new"])
    assert len(updated.tags) == MAX_USER_TAGS and updated.tags[-1] == "new"
    with pytest.raises(TagError):
        store.replace_tags("F", run.run_id, ["t1"], ["x", "y"])
    assert store.get_run("F", run.run_id) == updated


def test_tag_writes_on_unknown_runs_are_metadata_errors(store):
    store.create_run("F", "alice")
    for call in (
        lambda: store.add_tags("F", "9", ["a"]),
        lambda: store.remove_tags("F", "9", ["a"]),
        lambda: store.replace_tags("G", "1", [], ["a"]),
    ):
        with pytest.raises(MetadataError) as err:
            call()
        assert "\n" not in str(err.value)


def test_filter_runs_by_several_tags_user_and_system(store):
    a = store.create_run("F", "alice", tags=["x", "y"], system_tags=["project:p1"])
    b = store.create_run("F", "alice", tags=["x"], system_tags=["project:p2"])
    c = store.create_run("F", "alice", tags=["y", "x"], system_tags=["project:p1"])
    d = store.create_run("F", "alice", tags=["y"], system_tags=["project:p1"])
    store.create_run("G", "alice", tags=["x", "y"], system_tags=["project:p1"])

    def ids(*tags):
        return [r.run_id for r in store.list_runs("F", tags=list(tags))]

    assert ids("x") == [c.run_id, b.run_id, a.run_id]
    assert ids("x", "y") == [c.run_id, a.run_id]
    assert ids("y", "x") == [c.run_id, a.run_id]
    assert ids("x", "project:p1") == [c.run_id, a.run_id]
    assert ids("project:p1", "y") == [d.run_id, c.run_id, a.run_id]
    assert ids("x", "y", "project:p2") == []
    assert ids("nope") == []
    assert ids("x", "x") == ids("x")
    assert [r.run_id for r in store.list_runs("F", tags=["x"], limit=2)] == [c.run_id, b.run_id]
    # listed runs carry all their tags, not just the ones filtered on
    assert store.list_runs("F", tags=["project:p2"])[0].tags == ("x",)


def test_latest_runs_with_tags(store):
    a = store.create_run("F", "alice", tags=["x"], system_tags=["project:p1"])
    b = store.create_run("F", "alice", tags=["x"], system_tags=["project:p1"])
    c = store.create_run("F", "alice", tags=["x"], system_tags=["project:p2"])
    store.set_run_status("F", a.run_id, RunStatus.COMPLETED)
    store.set_run_status("F", c.run_id, RunStatus.COMPLETED)
    assert store.latest_run("F", ["project:p1"]).run_id == b.run_id
    assert store.latest_successful_run("F", ["project:p1"]).run_id == a.run_id
    assert store.latest_successful_run("F", ["x"]).run_id == c.run_id
    assert store.latest_successful_run("F", ["x", "project:p1"]).run_id == a.run_id
    assert store.latest_successful_run("F", ["project:p3"]) is None
    # tags added later count for filtering
    store.add_tags("F", a.run_id, ["best"])
    assert store.latest_successful_run("F", ["best"]).run_id == a.run_id
    store.remove_tags("F", a.run_id, ["best"])
    assert store.latest_successful_run("F", ["best"]) is None
