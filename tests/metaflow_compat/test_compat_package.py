"""`headwater metaflow-compat DIR`: a `metaflow` package that runs Metaflow-style flows and
client scripts on headwater, and that never replaces a real Metaflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # Metaflow's own flows, unchanged

STYLE = Path(__file__).resolve().parents[1] / "flows" / "metaflow_style"

# The names a Metaflow user imports from the top-level package (API.md section 9).
REQUIRED = [
    "FlowSpec", "step", "Parameter", "JSONType", "IncludeFile", "current", "retry", "catch",
    "timeout", "environment", "resources", "card", "project", "Flow", "Run", "Step", "Task",
    "Metaflow", "namespace", "get_namespace", "default_namespace", "metadata", "get_metadata",
    "Runner", "NBRunner", "DataArtifact", "Config", "config_expr", "ConfigValue", "parallel",
    "secrets", "UserStepDecorator", "user_step_decorator", "USER_SKIP_STEP", "StepMutator",
    "FlowMutator",
]  # fmt: skip


def headwater_cmd(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "headwater.cli.console", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=60,
    )


def python(code: str, compat: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(compat)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.fixture
def compat(hw_root) -> Path:
    target = hw_root.parent / "compat"
    proc = headwater_cmd("metaflow-compat", str(target), cwd=hw_root.parent)
    assert proc.returncode == 0, proc.stderr
    assert "Wrote the metaflow compatibility package" in proc.stderr
    return target


def test_writes_marked_stub_modules(compat, hw_root):
    pkg = compat / "metaflow"
    names = sorted(p.name for p in pkg.iterdir())
    for module in ("__init__.py", "cards.py", "client.py", "exception.py"):
        assert module in names
    for path in pkg.iterdir():
        assert path.read_text().startswith("# headwater-metaflow-compat")
    # Writing again updates the package in place.
    proc = headwater_cmd("metaflow-compat", str(compat), cwd=hw_root.parent)
    assert proc.returncode == 0, proc.stderr


def test_metaflow_names_map_onto_headwater(compat, hw_root):
    proc = python(
        f"""
        import json
        import headwater, headwater.client, headwater.exceptions as hx
        import metaflow
        from metaflow import *
        from metaflow.client import Flow as ClientFlow, namespace as client_namespace
        from metaflow.exception import (
            MetaflowException, MetaflowNotFound, MetaflowNamespaceMismatch,
            MetaflowInvalidPathspec, MissingInMergeArtifactsException,
            UnhandledInMergeArtifactsException, ExternalCommandFailed,
        )
        from metaflow.cards import Markdown, MetaflowCard
        import metaflow.cards, headwater.cards
        required = {REQUIRED!r}
        same = {{n: getattr(metaflow, n) is getattr(headwater, n) for n in required}}
        try:
            from metaflow import conda_base
            missing = "imported"
        except ImportError as ex:
            missing = str(ex)
        print(json.dumps({{
            "same": same,
            "star": sorted(set(required) - set(globals())),
            "client": ClientFlow is headwater.client.Flow
                and client_namespace is headwater.client.namespace,
            "exceptions": [MetaflowException is hx.HeadwaterException,
                           MetaflowNotFound is hx.ObjectNotFound,
                           MetaflowNamespaceMismatch is hx.NamespaceMismatch,
                           MetaflowInvalidPathspec is hx.InvalidPathspec,
                           MissingInMergeArtifactsException is hx.MissingInMergeArtifactsError,
                           UnhandledInMergeArtifactsException
                           is hx.UnhandledInMergeArtifactsError,
                           ExternalCommandFailed is hx.ExternalCommandFailed],
            "cards": Markdown is headwater.cards.Markdown
                and MetaflowCard is headwater.cards.MetaflowCard,
            "missing": missing,
            "file": metaflow.__file__,
        }}))
        """,
        compat,
        hw_root.parent,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["same"] == {n: True for n in REQUIRED}
    assert got["star"] == []
    assert got["client"] is True
    assert got["exceptions"] == [True] * 7
    assert got["cards"] is True
    assert got["missing"].startswith("metaflow.conda_base is Metaflow API that headwater")
    assert got["file"] == str(compat / "metaflow" / "__init__.py")


def test_metaflow_tutorial_flows_run_unchanged(compat, run_flow, hw_root):
    env = {"PYTHONPATH": str(compat)}
    for flow in ("helloworld.py", "playlist.py", "movie_stats.py", "playlist_redux.py"):
        proc = run_flow(STYLE / flow, "run", env=env)
        assert proc.returncode == 0, f"{flow}: {proc.stderr}"
    proc = run_flow(STYLE / "playlist.py", "run", "--genre", "Drama", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Pick 1: 'Arrival'" in proc.stdout

    script = subprocess.run(
        [sys.executable, str(STYLE / "read_results.py")],
        capture_output=True,
        text=True,
        cwd=hw_root.parent,
        env={**os.environ, **env},
        timeout=60,
    )
    assert script.returncode == 0, script.stderr
    assert json.loads(script.stdout) == {
        "flows": ["HelloFlow", "MovieStatsFlow", "PlayListFlow", "PlayListReduxFlow"],
        "greeting": "Hi!",
        "playlist": ["Arrival", "Her", "Gravity"],
        "bonus": "Avatar",
        "sci-fi": {"count": 7, "median": 100546139},
        "best_genre": "adventure",
        "redux_read": "1",
        "missing": "MetaflowNotFound",
    }


def test_metaflow_runner_api_through_the_package(compat, hw_root):
    proc = python(
        f"""
        from metaflow import Runner, namespace, Flow
        with Runner({str(STYLE / "helloworld.py")!r}, show_output=False) as runner:
            running = runner.run()
        print(running.status, running.run.data.greeting, Flow("HelloFlow").latest_run.id)
        """,
        compat,
        hw_root.parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["successful", "Hi!", "1"]


def test_refuses_a_directory_holding_a_real_metaflow(hw_root):
    target = hw_root.parent / "site"
    real = target / "metaflow"
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("# the real Metaflow\n")
    proc = headwater_cmd("metaflow-compat", str(target), cwd=hw_root.parent)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: {real} exists and was not written by headwater (a real Metaflow?): "
        "choose another directory"
    ]
    assert (real / "__init__.py").read_text() == "# the real Metaflow\n"
    assert sorted(p.name for p in real.iterdir()) == ["__init__.py"]


def test_refuses_a_metaflow_module_file(hw_root):
    target = hw_root.parent / "mod"
    target.mkdir()
    (target / "metaflow.py").write_text("x = 1\n")
    proc = headwater_cmd("metaflow-compat", str(target), cwd=hw_root.parent)
    assert proc.returncode == 1
    assert "metaflow.py exists and was not written by headwater" in proc.stderr
    assert not (target / "metaflow").exists()


def test_refuses_a_directory_an_installed_metaflow_is_imported_from(hw_root):
    target = hw_root.parent / "env"
    site = target / "lib" / "site-packages"
    (site / "metaflow").mkdir(parents=True)
    (site / "metaflow" / "__init__.py").write_text("# the real Metaflow\n")
    proc = headwater_cmd(
        "metaflow-compat", str(target), cwd=hw_root.parent, env={"PYTHONPATH": str(site)}
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: a real Metaflow is installed in {target} ({site / 'metaflow' / '__init__.py'}): "
        "choose another directory"
    ]
    assert not (target / "metaflow").exists()


def test_warns_when_the_package_would_hide_a_real_metaflow(hw_root):
    site = hw_root.parent / "site-packages"
    (site / "metaflow").mkdir(parents=True)
    (site / "metaflow" / "__init__.py").write_text("# the real Metaflow\n")
    target = hw_root.parent / "compat"
    proc = headwater_cmd(
        "metaflow-compat", str(target), cwd=hw_root.parent, env={"PYTHONPATH": str(site)}
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning: a real Metaflow is installed at" in proc.stderr
    assert (target / "metaflow" / "__init__.py").exists()


def test_refuses_a_file_as_directory(hw_root):
    target = hw_root.parent / "a_file"
    target.write_text("")
    proc = headwater_cmd("metaflow-compat", str(target), cwd=hw_root.parent)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: {target} is not a directory: give a directory to write into"
    ]


def test_caught_exceptions_keep_metaflows_type_names(compat, run_flow, hw_root):
    """@catch records the type of a caught exception as Metaflow names it, for headwater's
    exceptions too (metaflow.exception.*, a task that died, a timeout)."""
    proc = run_flow(STYLE / "catch_names.py", "run", env={"PYTHONPATH": str(compat)})
    assert proc.returncode == 0, proc.stderr
    script = subprocess.run(
        [
            sys.executable,
            "-c",
            "from metaflow import Flow, namespace; namespace(None); "
            "run = Flow('CatchNamesFlow').latest_run; "
            "print({s.id: s.task.data.err.type for s in run if s.id != 'end'})",
        ],
        capture_output=True,
        text=True,
        cwd=hw_root.parent,
        env={**os.environ, "PYTHONPATH": str(compat)},
        timeout=60,
    )
    assert script.returncode == 0, script.stderr
    assert eval(script.stdout) == {  # noqa: S307 - our own script's dict
        "start": "metaflow.exception.ExternalCommandFailed",
        "died": "metaflow.plugins.catch_decorator.FailureHandledByCatch",
        "slow": "metaflow.plugins.timeout_decorator.TimeoutException",
        "own": "__main__.OwnError",
    }


def test_metaflow_flows_use_custom_decorators_parallel_and_secrets(compat, run_flow, hw_root):
    proc = run_flow(STYLE / "extensions.py", "run", env={"PYTHONPATH": str(compat)})
    assert proc.returncode == 0, proc.stderr
    assert "nodes seen: [0, 1]" in proc.stdout
    assert "timed start" in proc.stdout and "secret length: 6" in proc.stdout
