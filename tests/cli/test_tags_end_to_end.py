"""Tags on real runs: ``run --tag``, client and command-line editing, filtering runs, steps and
tasks by several tags at once, unicode and spaces, and the limits (50 user tags of at most 500
characters) with their one-line errors."""

from __future__ import annotations

import pytest
from flow_runs import build_root, copy_root, run_id_of

from headwater import Flow, Run, Step, Task, namespace
from headwater.core.tags import MAX_TAG_LENGTH, MAX_USER_TAGS
from headwater.exceptions import TagError

pytestmark = pytest.mark.slow  # runs flows, then tags them

ODD_TAGS = ["nightly run ✓", "日本語 タグ", " padded ", "a,b;c", "x" * MAX_TAG_LENGTH]


@pytest.fixture(scope="module")
def _store(tmp_path_factory):
    """ForeachFlow runs: 1 alice (red, big), 2 alice (red), 3 bob (red, big), 4 alice (odd
    tags); made once."""
    base = tmp_path_factory.mktemp("tags")
    odd = [a for t in ODD_TAGS for a in ("--tag", t)]
    ids = build_root(
        base,
        [
            ("alice", "foreach.py", ["run", "--tag", "red", "--tag", "big"]),
            ("alice", "foreach.py", ["run", "--tag", "red"]),
            ("bob", "foreach.py", ["run", "--tag", "red", "--tag", "big"]),
            ("alice", "foreach.py", ["run", *odd]),
        ],
    )
    assert ids == ["1", "2", "3", "4"]
    return base


@pytest.fixture
def store(_store, hw_root, client_as):
    copy_root(_store, hw_root)
    client_as("alice")
    return hw_root


def _ids(objs) -> list[str]:
    return [o.id for o in objs]


def test_run_tags_round_trip_exactly(store):
    run = Run("ForeachFlow/4")
    assert run.user_tags == frozenset(ODD_TAGS)
    assert {t.split(":")[0] for t in run.system_tags} == {"user", "runtime", "python_version"}
    assert "user:alice" in run.system_tags
    assert run.tags == run.user_tags | run.system_tags
    for tag in ODD_TAGS:
        assert _ids(Flow("ForeachFlow").runs(tag)) == ["4"]


def test_tasks_and_steps_carry_their_runs_tags(store):
    run = Run("ForeachFlow/1")
    for step in run:
        assert step.tags == run.tags
        for task in step:
            assert task.tags == run.tags
            assert task.user_tags == {"red", "big"}
            assert "user:alice" in task.system_tags


def test_tasks_see_their_runs_tags_in_current(run_as, client_as):
    proc = run_as(
        "alice",
        "namespace_reader_flow.py",
        "run",
        "--tag",
        "x y",
        "--tag",
        "✓",
        "--target",
        "NamespaceReaderFlow",
    )
    assert proc.returncode == 0, proc.stderr
    client_as("alice")
    task = Run(f"NamespaceReaderFlow/{run_id_of(proc)}")["start"].task
    # current.tags: the run's user tags, as in Metaflow; the task carries all its run's tags.
    assert set(task.data.task_tags) == {"x y", "✓"}
    assert {"x y", "✓", "user:alice", "runtime:dev"} <= task.tags


def test_filter_runs_by_several_tags(store):
    flow = Flow("ForeachFlow")
    assert _ids(flow.runs("red")) == ["2", "1"]  # bob's run 3 is outside alice's namespace
    assert _ids(flow.runs("red", "big")) == ["1"]
    assert _ids(flow.runs("big", "red", "user:alice")) == ["1"]  # user and system tags mix
    assert _ids(flow.runs("red", "nope")) == []
    namespace(None)
    assert _ids(flow.runs("red", "big")) == ["3", "1"]
    assert _ids(flow.runs("red", "user:bob")) == ["3"]


def test_filter_steps_and_tasks_by_several_tags(store):
    run = Run("ForeachFlow/1")
    assert sorted(_ids(run.steps("red", "big"))) == ["end", "join", "square", "start"]
    assert list(run.steps("red", "nope")) == []
    step = Step("ForeachFlow/1/square")
    assert len(list(step.tasks("red", "big", "runtime:dev"))) == 3
    assert list(step.tasks("red", "small")) == []
    assert [t.data.sq for t in sorted(step.tasks("red"), key=lambda t: t.index)] == [1, 4, 9]
    assert len(list(Step("ForeachFlow/2/square").tasks("red", "big"))) == 0


def test_client_tag_editing_is_seen_everywhere(store, run_as):
    run = Run("ForeachFlow/2")
    run.add_tag("tuesday")
    run.add_tags(["v2", "long tag with spaces ✓"])
    assert run.user_tags == {"red", "tuesday", "v2", "long tag with spaces ✓"}
    run.remove_tag("tuesday")
    run.remove_tags(["v2"])
    run.replace_tag("red", "blue")
    run.replace_tags(["long tag with spaces ✓"], ["big", "final"])
    assert run.user_tags == {"blue", "big", "final"}
    # fresh objects, filters and the command line agree
    assert Run("ForeachFlow/2").user_tags == {"blue", "big", "final"}
    assert _ids(Flow("ForeachFlow").runs("big", "final")) == ["2"]
    assert len(list(Step("ForeachFlow/2/square").tasks("blue", "final"))) == 3
    assert Task("ForeachFlow/2/end/6").user_tags == {"blue", "big", "final"}
    listed = run_as("alice", "foreach.py", "tag", "list", "2", "--flat", "--hide-system-tags")
    assert listed.stdout.splitlines() == ["big", "blue", "final"]


def test_command_line_tag_editing_is_seen_by_the_client(store, run_as):
    def tag(*args):
        proc = run_as("alice", "foreach.py", "tag", *args)
        assert proc.returncode == 0, proc.stderr
        return proc

    out = tag("add", "--run-id", "1", "日本語", "with space").stdout
    assert "Operation successful. New tags:" in out
    assert "*日本語*" in out and "*with space*" in out and "user:alice" in out
    tag("remove", "--run-id", "1", "big")
    tag("replace", "--run-id", "1", "--remove", "red", "--add", "green", "--add", "blue")
    tag("replace", "--run-id", "1", "green", "teal")
    assert Run("ForeachFlow/1").user_tags == {"日本語", "with space", "blue", "teal"}
    assert len(list(Step("ForeachFlow/1/square").tasks("日本語", "teal"))) == 3


def test_tag_list_options(store, run_as):
    def listing(*args):
        proc = run_as("alice", "foreach.py", "tag", "list", *args)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    flat = listing("--run-id", "1", "--flat").splitlines()
    assert {"red", "big", "user:alice", "runtime:dev"} <= set(flat)
    assert flat == sorted(flat)
    assert listing("1", "--flat", "--hide-system-tags").splitlines() == ["big", "red"]
    everything = listing("--all", "--flat", "--hide-system-tags").splitlines()
    assert set(everything) == {"red", "big", *ODD_TAGS}
    assert listing("--flat", "--hide-system-tags").splitlines() == everything  # --all default
    mine = listing("--my-runs", "--flat").splitlines()
    assert "user:alice" in mine and "user:bob" not in mine
    assert "user:bob" in listing("--all", "--flat").splitlines()
    grouped = listing("--my-runs", "--group-by-tag", "--hide-system-tags")
    assert "For tag *red*" in grouped
    assert "ForeachFlow/1" in grouped and "ForeachFlow/3" not in grouped
    by_run = listing("--all", "--group-by-run")
    assert "For run ForeachFlow/3" in by_run and "*big*" in by_run
    quiet = run_as("alice", "foreach.py", "--quiet", "tag", "list", "1")
    assert quiet.stdout.strip() == (
        "ForeachFlow/1 ; python_version:"
        + next(t for t in Run("ForeachFlow/1").system_tags if t.startswith("python_version:"))[
            len("python_version:") :
        ]
        + ",runtime:dev,user:alice ; big,red"
    )


# --- limits -------------------------------------------------------------------------------------


def _one_line_error(proc, *fragments):
    assert proc.returncode == 1, proc.stdout
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize(
    ("tags", "fragments"),
    [
        (
            [f"t{i}" for i in range(MAX_USER_TAGS + 1)],
            ["at most 50 user tags; this would give it 51", "use fewer tags"],
        ),
        (["y" * (MAX_TAG_LENGTH + 1)], ["is 501 characters long: the limit is 500", "shorten"]),
        (["ok", "   "], ["a tag cannot be empty or only spaces"]),
        (["user:mallory"], ["'user:mallory' looks like a system tag"]),
        (["project_branch:prod"], ["looks like a system tag"]),
    ],
)
def test_run_refuses_bad_tags_before_starting(run_as, hw_root, client_as, tags, fragments):
    args = [a for t in tags for a in ("--tag", t)]
    _one_line_error(run_as("alice", "linear.py", "run", *args), *fragments)
    assert not (hw_root / "metadata.db").exists()  # no run was created


def test_fifty_tags_and_five_hundred_characters_are_fine(run_as, client_as):
    tags = [f"tag number {i}" for i in range(MAX_USER_TAGS - 1)] + ["z" * MAX_TAG_LENGTH]
    proc = run_as("alice", "linear.py", "run", *[a for t in tags for a in ("--tag", t)])
    assert proc.returncode == 0, proc.stderr
    client_as("alice")
    assert Run(f"LinearFlow/{run_id_of(proc)}").user_tags == frozenset(tags)


def test_tag_limits_on_editing(store, run_as):
    run = Run("ForeachFlow/1")  # two user tags
    many = [f"n{i}" for i in range(MAX_USER_TAGS - 1)]
    with pytest.raises(TagError, match="at most 50 user tags; this would give it 51"):
        run.add_tags(many)
    assert run.user_tags == {"red", "big"}  # nothing was added
    proc = run_as("alice", "foreach.py", "tag", "add", "--run-id", "1", *many)
    _one_line_error(proc, "at most 50 user tags; this would give it 51")
    with pytest.raises(TagError, match="at most 50"):  # replace counts after its removals
        run.replace_tags(["red"], [*many, "one more"])
    run.replace_tags(["red"], many)  # 1 + 49 = 50
    assert len(Run("ForeachFlow/1").user_tags) == MAX_USER_TAGS

    with pytest.raises(TagError, match="the limit is 500"):
        run.add_tag("w" * (MAX_TAG_LENGTH + 1))
    with pytest.raises(TagError, match="not a string"):
        run.add_tag(7)  # type: ignore[arg-type]
    with pytest.raises(TagError, match="cannot be removed"):
        run.remove_tag("user:alice")
    with pytest.raises(TagError, match="looks like a system tag"):
        run.add_tag("runtime:other")
    _one_line_error(
        run_as("alice", "foreach.py", "tag", "remove", "--run-id", "1", "runtime:dev"),
        "'runtime:dev' is a system tag and cannot be removed",
    )
    _one_line_error(
        run_as("alice", "foreach.py", "tag", "add", "--run-id", "1", "q" * 600),
        "is 600 characters long",
    )
    assert "user:alice" in Run("ForeachFlow/1").system_tags
