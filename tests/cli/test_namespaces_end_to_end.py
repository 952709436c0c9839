"""Namespaces on real runs by two users: the client's default (your own runs),
``namespace(None)``, tag and production/project namespaces, and the same rules on the command
line (``run --namespace`` inside tasks, ``tag --namespace``, and dump/logs, which like
Metaflow's read any run named explicitly)."""

from __future__ import annotations

import pytest
from flow_runs import build_root, copy_root, run_id_of

import headwater
from headwater import (
    DataArtifact,
    Flow,
    Metaflow,
    Run,
    Step,
    Task,
    get_namespace,
    namespace,
)
from headwater.exceptions import NamespaceMismatch

pytestmark = pytest.mark.slow  # several users' runs, end to end


@pytest.fixture(scope="module")
def _two_users_store(tmp_path_factory):
    """LinearFlow run 1 by bob, run 2 by alice (tagged 'shared'), run 3 by bob; made once."""
    base = tmp_path_factory.mktemp("two_users")
    ids = build_root(
        base,
        [
            ("bob", "linear.py", ["run"]),
            ("alice", "linear.py", ["run", "--tag", "shared"]),
            ("bob", "linear.py", ["run"]),
        ],
    )
    return base, dict(zip(("bob1", "alice", "bob2"), ids, strict=True))


@pytest.fixture
def two_users(_two_users_store, hw_root):
    """A copy of the module's two-user store as this test's root; returns the run ids."""
    base, ids = _two_users_store
    copy_root(base, hw_root)
    return dict(ids)


def _ids(runs) -> list[str]:
    return [r.id for r in runs]


# --- the client ---------------------------------------------------------------------------------


def test_by_default_a_user_sees_only_their_own_runs(two_users, client_as):
    client_as("alice")
    assert get_namespace() == "user:alice"
    flow = Flow("LinearFlow")
    assert _ids(flow) == [two_users["alice"]]
    assert flow.latest_run.id == two_users["alice"]
    assert flow.latest_successful_run.id == two_users["alice"]
    assert Run(f"LinearFlow/{two_users['alice']}").data.y == 4
    assert [f.id for f in Metaflow().flows] == ["LinearFlow"]

    client_as("bob")
    assert _ids(Flow("LinearFlow")) == [two_users["bob2"], two_users["bob1"]]
    assert Flow("LinearFlow").latest_run.id == two_users["bob2"]


def test_objects_of_another_users_run_are_a_clear_mismatch(two_users, client_as):
    client_as("alice")
    rid = two_users["bob1"]
    for cls, pathspec in (
        (Run, f"LinearFlow/{rid}"),
        (Step, f"LinearFlow/{rid}/end"),
        (Task, f"LinearFlow/{rid}/end/3"),
        (DataArtifact, f"LinearFlow/{rid}/end/3/y"),
    ):
        with pytest.raises(NamespaceMismatch) as err:
            cls(pathspec)
        msg = str(err.value)
        assert f"{cls.__name__}('{pathspec}')" in msg
        assert "not in namespace 'user:alice'" in msg
        assert "namespace('user:bob') or namespace(None)" in msg
        assert "\n" not in msg
    with pytest.raises(NamespaceMismatch):
        Flow("LinearFlow")[rid]
    assert rid not in _ids(Flow("LinearFlow"))


def test_a_user_without_runs_gets_a_mismatch_for_the_flow(two_users, client_as):
    client_as("carol")
    with pytest.raises(NamespaceMismatch) as err:
        Flow("LinearFlow")
    msg = str(err.value)
    assert "flow 'LinearFlow' has no run in namespace 'user:carol'" in msg
    assert "namespace(None)" in msg
    assert Metaflow().flows == []
    namespace(None)
    assert len(list(Flow("LinearFlow"))) == 3


def test_global_and_other_namespaces(two_users, client_as):
    client_as("alice")
    assert namespace(None) is None
    assert _ids(Flow("LinearFlow")) == [two_users["bob2"], two_users["alice"], two_users["bob1"]]
    assert Task(f"LinearFlow/{two_users['bob1']}/end/3").data.y == 4

    namespace("user:bob")
    assert _ids(Flow("LinearFlow")) == [two_users["bob2"], two_users["bob1"]]
    with pytest.raises(NamespaceMismatch, match="not in namespace 'user:bob'"):
        Run(f"LinearFlow/{two_users['alice']}")

    namespace("shared")  # any tag is a namespace
    assert _ids(Flow("LinearFlow")) == [two_users["alice"]]

    namespace("no such tag")
    with pytest.raises(NamespaceMismatch, match="has no run in namespace 'no such tag'"):
        Flow("LinearFlow")

    # the namespace is read when a listing is made, not when the object was built
    flow = Flow("LinearFlow", _namespace_check=False)
    assert flow.latest_run is None
    namespace(None)
    assert flow.latest_run.id == two_users["bob2"]


def test_production_namespace_sees_only_production_runs(two_users, client_as, hw_root):
    # A run a production scheduler started carries a production:<token> system tag.
    from headwater.metadata_store.sqlite import SqliteMetadata

    with SqliteMetadata(hw_root / "metadata.db") as md:
        prod = md.create_run(
            "LinearFlow", "scheduler", system_tags=["user:scheduler", "production:linear-1a2b"]
        )
    client_as("alice")
    namespace("production:linear-1a2b")
    assert _ids(Flow("LinearFlow")) == [prod.run_id]
    assert Flow("LinearFlow").latest_run.id == prod.run_id
    with pytest.raises(NamespaceMismatch, match="not in namespace 'production:linear-1a2b'"):
        Run(f"LinearFlow/{two_users['alice']}")
    namespace("production:other")
    with pytest.raises(NamespaceMismatch):
        Flow("LinearFlow")


PROJECT_FLOW = """
from headwater import FlowSpec, project, step


@project(name="nsdemo")
class ProjectNamespaceFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectNamespaceFlow()
"""


@pytest.mark.skipif(
    getattr(headwater, "project", None) is None, reason="@project is not available yet"
)
def test_project_namespace_sees_the_projects_runs(run_as, client_as, hw_root):
    path = hw_root.parent / "project_namespace_flow.py"
    path.write_text(PROJECT_FLOW)
    ids = {}
    for user in ("alice", "bob"):
        proc = run_as(user, str(path), "run")
        assert proc.returncode == 0, proc.stderr
        ids[user] = run_id_of(proc)
    client_as("alice")
    assert _ids(Flow("ProjectNamespaceFlow")) == [ids["alice"]]  # branches stay apart
    namespace("project:nsdemo")
    assert _ids(Flow("ProjectNamespaceFlow")) == [ids["bob"], ids["alice"]]
    namespace("project_branch:user.bob")
    assert _ids(Flow("ProjectNamespaceFlow")) == [ids["bob"]]
    with pytest.raises(NamespaceMismatch):
        Run(f"ProjectNamespaceFlow/{ids['alice']}")


# --- run --namespace: the namespace of client calls inside the tasks ---------------------------


@pytest.mark.parametrize(
    ("args", "expected_ns", "sees"),
    [
        ((), "user:alice", ["alice"]),
        (("--namespace", "user:bob"), "user:bob", ["bob2", "bob1"]),
        (("--namespace", "shared"), "shared", ["alice"]),
        (("--namespace=",), None, ["bob2", "alice", "bob1"]),
        (("--namespace", "user:bob", "--executor", "subprocess"), "user:bob", ["bob2", "bob1"]),
    ],
)
def test_run_namespace_is_the_namespace_of_client_calls_in_tasks(
    two_users, run_as, client_as, args, expected_ns, sees
):
    proc = run_as("alice", "namespace_reader_flow.py", "run", *args)
    assert proc.returncode == 0, proc.stderr
    client_as("alice")  # the reading run is alice's whatever --namespace said
    start = Run(f"NamespaceReaderFlow/{run_id_of(proc)}")["start"].task
    assert start.data.current_namespace == expected_ns
    assert start.data.client_namespace == expected_ns
    assert start.data.visible_runs == [two_users[k] for k in sees]
    assert start.data.mismatch is None
    assert start.data.task_tags == []  # current.tags: the run's user tags (it has none)
    assert "user:alice" in start.tags


def test_in_a_task_a_flow_with_no_visible_run_is_a_mismatch(two_users, run_as, client_as):
    proc = run_as("carol", "namespace_reader_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    client_as("carol")
    start = Flow("NamespaceReaderFlow").latest_run["start"].task
    assert start.data.current_namespace == "user:carol"
    assert start.data.visible_runs == []
    assert "has no run in namespace 'user:carol'" in start.data.mismatch


def test_run_namespace_does_not_change_the_runs_own_tags(two_users, run_as, client_as):
    proc = run_as("alice", "namespace_reader_flow.py", "run", "--namespace", "user:bob")
    client_as("alice")
    run = Run(f"NamespaceReaderFlow/{run_id_of(proc)}")  # still in alice's namespace
    assert "user:alice" in run.system_tags and "user:bob" not in run.tags


# --- other commands -----------------------------------------------------------------------------


def test_dump_and_logs_read_any_users_run_by_pathspec(two_users, run_as):
    # As Metaflow's: an explicit RUN/STEP[/TASK] is read whoever made it (no --namespace).
    rid = two_users["bob1"]
    dump = run_as("alice", "linear.py", "dump", f"{rid}/end")
    assert dump.returncode == 0, dump.stderr
    assert "y: 4" in dump.stdout
    logs = run_as("alice", "linear.py", "logs", f"{rid}/end/3")
    assert logs.returncode == 0, logs.stderr
    bad = run_as("alice", "linear.py", "dump", f"{rid}/end", "--namespace", "user:bob")
    assert bad.returncode == 1
    assert "unknown option '--namespace' for 'dump'" in bad.stderr


def test_tag_commands_find_runs_in_the_namespace(two_users, run_as, client_as):
    rid = two_users["bob1"]
    refused = run_as("alice", "linear.py", "tag", "add", "--run-id", rid, "seen")
    assert refused.returncode == 1
    err = refused.stderr.strip()
    assert f"run LinearFlow/{rid} is not in namespace 'user:alice'" in err
    assert "add --namespace user:bob to tag it" in err
    assert len(err.splitlines()) == 1

    ok = run_as("alice", "linear.py", "tag", "add", "--run-id", rid, "--namespace", "user:bob", "a")
    assert ok.returncode == 0, ok.stderr
    ok = run_as("alice", "linear.py", "tag", "add", "--run-id", rid, "--namespace=", "b")
    assert ok.returncode == 0, ok.stderr
    client_as("bob")
    assert Run(f"LinearFlow/{rid}").user_tags == {"a", "b"}

    latest = run_as("carol", "linear.py", "tag", "add", "x")
    assert latest.returncode == 1
    assert "LinearFlow has no run in namespace 'user:carol' yet" in latest.stderr
    latest = run_as("alice", "linear.py", "tag", "add", "x")
    assert f"the latest run of LinearFlow in namespace 'user:alice' is {two_users['alice']}" in (
        latest.stderr
    )


def test_tag_list_my_runs_and_all(two_users, run_as):
    assert (
        run_as("bob", "linear.py", "tag", "add", "--run-id", two_users["bob1"], "b1").returncode
        == 0
    )
    mine = run_as("alice", "linear.py", "tag", "list", "--my-runs", "--flat", "--hide-system-tags")
    assert mine.returncode == 0, mine.stderr
    assert mine.stdout.splitlines() == ["shared"]
    every = run_as("alice", "linear.py", "tag", "list", "--all", "--flat", "--hide-system-tags")
    assert every.stdout.splitlines() == ["b1", "shared"]
    default = run_as("alice", "linear.py", "tag", "list", "--flat", "--hide-system-tags")
    assert default.stdout == every.stdout  # like Metaflow: every run by default
    nobody = run_as("carol", "linear.py", "tag", "list", "--my-runs", "--flat")
    assert nobody.returncode == 0 and nobody.stdout == ""


def test_resume_picks_your_own_latest_run(run_as, client_as):
    failed = run_as("alice", "failing_flow.py", "run")
    assert failed.returncode == 1
    later = run_as("bob", "failing_flow.py", "run")
    assert later.returncode == 1
    resumed = run_as("alice", "failing_flow.py", "resume")
    assert "Resuming FailingFlow run 1 as run 3 (user alice" in resumed.stderr
    client_as("alice")
    assert Run("FailingFlow/3").origin_pathspec == "FailingFlow/1"
