"""@project: branches, system tags, `current` fields, name checks, and project namespaces."""

from __future__ import annotations

import re

import pytest

from headwater.client import Flow, Run, namespace, namespaces, provider
from headwater.exceptions import NamespaceMismatch


@pytest.fixture
def client(hw_root, monkeypatch):
    """The in-process client reading the test's root, with no namespace chosen yet."""
    monkeypatch.setattr(provider, "_explicit", None)
    monkeypatch.setattr(provider, "_connections", {})
    monkeypatch.setattr(namespaces, "_current", namespaces.UNSET)
    yield
    for conn in provider._connections.values():
        conn.metadata.close()


def _run_id(proc) -> str:
    m = re.search(r"Run (\d+) of \w+ completed", proc.stderr)
    assert m, proc.stderr
    return m.group(1)


@pytest.mark.parametrize(
    ("options", "branch", "is_user", "is_prod"),
    [
        ((), "user.tester", True, False),
        (("--branch", "feature_1"), "test.feature_1", False, False),
        (("--production",), "prod", False, True),
        (("--branch", "v2", "--production"), "prod.v2", False, True),
    ],
)
def test_branch_tags_and_current(run_flow, client, options, branch, is_user, is_prod):
    proc = run_flow("project_flow.py", *options, "run")
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    run = Run(f"ProjectFlow/{_run_id(proc)}")
    assert {"project:demo_project", f"project_branch:{branch}"} <= run.system_tags
    assert run["start"].task.data.project == {
        "project_name": "demo_project",
        "branch_name": branch,
        "is_user_branch": is_user,
        "is_production": is_prod,
        "project_flow_name": f"demo_project.{branch}.ProjectFlow",
    }
    assert run.data.end_branch == branch
    # System tags stay: removing one is refused.
    with pytest.raises(Exception, match="system tag"):
        run.remove_tag(f"project_branch:{branch}")


def test_project_namespace_shows_every_branch_but_users_see_their_own(
    run_flow, client, monkeypatch
):
    alice = run_flow("project_flow.py", "run", env={"HEADWATER_USER": "alice"})
    bob = run_flow("project_flow.py", "run", env={"HEADWATER_USER": "bob"})
    prod = run_flow("project_flow.py", "--production", "run", env={"HEADWATER_USER": "bob"})
    ids = {name: _run_id(p) for name, p in (("alice", alice), ("bob", bob), ("prod", prod))}

    monkeypatch.setenv("HEADWATER_USER", "alice")
    assert [r.id for r in Flow("ProjectFlow")] == [ids["alice"]]
    assert Flow("ProjectFlow").latest_run.data.end_branch == "user.alice"
    with pytest.raises(NamespaceMismatch):
        Run(f"ProjectFlow/{ids['bob']}")

    namespace("project:demo_project")
    assert sorted(r.id for r in Flow("ProjectFlow")) == sorted(ids.values())
    namespace("project_branch:prod")
    assert [r.id for r in Flow("ProjectFlow")] == [ids["prod"]]
    namespace("project:demo_project")
    assert [r.id for r in Flow("ProjectFlow").runs("project_branch:user.bob")] == [ids["bob"]]


def test_branch_option_on_a_flow_without_project_is_a_clear_error(run_flow):
    proc = run_flow("linear.py", "--branch", "x", "run")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: --branch needs @project on the flow: add @project(...) above class LinearFlow, "
        "or leave --branch out"
    ]
    proc = run_flow("linear.py", "--production", "run")
    assert proc.returncode == 1
    assert "--production needs @project" in proc.stderr
    proc = run_flow("linear.py", "--with", "retry", "--branch=x", "run")
    assert proc.returncode == 1
    assert "--branch needs @project" in proc.stderr


def test_project_options_go_before_the_command(run_flow):
    proc = run_flow("project_flow.py", "run", "--branch", "x")
    assert proc.returncode == 1
    assert "--branch is a top-level option: put it before the command" in proc.stderr


@pytest.mark.parametrize(
    ("options", "env", "message"),
    [
        (("--branch", "Feature"), {}, "the branch name 'Feature' has the character 'F'"),
        (("--branch", "a.b"), {}, "the branch name 'a.b' has the character '.'"),
        (("--branch", "x" * 129), {}, "the limit is 128"),
        ((), {"PROJECT_NAME": "My-Project"}, "the @project name 'My-Project' has the character"),
        ((), {"PROJECT_NAME": ""}, "the @project name is empty"),
    ],
)
def test_bad_names_are_refused_with_one_line(run_flow, options, env, message):
    flow = "project_args_flow.py" if env else "project_flow.py"
    proc = run_flow(flow, *options, "run", env=env)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_decorator_branch_applies_and_conflicts_with_the_option(run_flow, client):
    proc = run_flow("project_args_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    assert Run(f"ProjectArgsFlow/{_run_id(proc)}").data.branch == "test.pinned"
    assert "project_branch:test.pinned" in Run(f"ProjectArgsFlow/{_run_id(proc)}").system_tags
    proc = run_flow("project_args_flow.py", "--branch", "other", "run")
    assert proc.returncode == 1
    assert "@project sets branch='pinned' and the command line gives --branch" in proc.stderr


def test_decorator_with_an_unknown_argument_is_reported_at_run(tmp_path, run_flow):
    flow = tmp_path / "bad_arg_flow.py"
    flow.write_text(
        "from headwater import FlowSpec, project, step\n\n"
        "@project(name='p', team='x')\n"
        "class BadArgFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n\n"
        "if __name__ == '__main__':\n"
        "    BadArgFlow()\n"
    )
    proc = run_flow(flow, "run")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: flow BadArgFlow: @project has no argument 'team' (its arguments: name, branch, "
        "production)"
    ]


def test_help_lists_project_options_only_for_project_flows(run_flow):
    assert "--production" in run_flow("project_flow.py", "--help").stdout
    assert "--production" not in run_flow("linear.py", "--help").stdout


@pytest.mark.parametrize(
    ("env", "branch"),
    [
        ({"METAFLOW_BRANCH": "from_env"}, "test.from_env"),
        ({"HEADWATER_PRODUCTION": "true"}, "prod"),
        ({"METAFLOW_PRODUCTION": "True", "METAFLOW_BRANCH": "b"}, "prod.b"),
    ],
)
def test_branch_options_from_the_environment(run_flow, client, env, branch):
    proc = run_flow("project_flow.py", "run", env=env)
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    run = Run(f"ProjectFlow/{_run_id(proc)}")
    assert f"project_branch:{branch}" in run.system_tags
    # A callable Parameter default read current.branch_name while the run started.
    assert run["start"].task.data.launched == f"default read on {branch}"


def test_the_command_line_wins_over_the_environment(run_flow, client):
    proc = run_flow("project_flow.py", "--branch", "cli", "run", env={"METAFLOW_BRANCH": "env"})
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    assert "project_branch:test.cli" in Run(f"ProjectFlow/{_run_id(proc)}").system_tags
