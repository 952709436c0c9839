"""What Metaflow flows (and Metaflow's own test suite) rely on, checked on one flow run:
the flow object's structure, `del self.x`, config expressions, callable defaults reading
configs, current.tags, merge_artifacts' errors, and @timeout raising inside the step."""

from __future__ import annotations

import re

import pytest

from headwater import Flow, namespace
from headwater.core.graph import NodeType


@pytest.fixture(scope="module")
def gaps_run(tmp_path_factory):
    """Run the flow once for the module: (datastore root, run id)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = tmp_path_factory.mktemp("gaps")
    flow = Path(__file__).resolve().parents[1] / "flows" / "gaps_flow.py"
    env = {**os.environ, "HEADWATER_ROOT": str(root / ".headwater"), "HEADWATER_USER": "tester"}
    proc = subprocess.run(
        [sys.executable, str(flow), "run", "--tag", "mine"],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return root / ".headwater", re.search(r"Run (\d+) of", proc.stderr).group(1)


@pytest.fixture
def run(gaps_run, client_state):
    from headwater.client import metadata

    root, run_id = gaps_run
    metadata(f"local@{root}")
    namespace(None)
    return Flow("GapsFlow")[run_id]


def test_a_flow_object_iterates_over_its_steps_in_order(run):
    start = run["start"].task.data
    assert start.steps_seen == ["start", "each", "join", "slow", "end"]
    assert start.step_types["each"] == NodeType.LINEAR == "linear"
    assert start.step_types["start"] == "foreach" and start.step_types["join"] == "join"
    assert start.current_step == "start"


def test_foreach_stack_frames_and_deleted_artifacts(run):
    each = sorted(run["each"], key=lambda t: t.data.branch_value)
    assert [t.data.frames for t in each] == [
        [("start", "items", 2, 0, "a")],
        [("start", "items", 2, 1, "b")],
    ]
    assert all("dropped" not in t for t in each)  # `del self.dropped` removed the inherited one
    assert run["join"].task.data.dropped_seen == [False, False]


def test_config_expressions_and_callable_defaults_read_configs(run):
    data = run["start"].task.data
    assert data.from_config == 21 and data.from_ctx == 42
    # @project(name=config_expr("settings").project.name)
    assert run["end"].task.data.project == "gaps"


def test_current_tags_is_a_set_of_user_tags_a_step_may_change(run):
    assert run["start"].task.data.tags == {"mine", "added in a step"}
    assert "added in a step" not in run.tags


def test_merge_artifacts_raises_metaflows_exception_classes(run):
    join = run["join"].task.data
    assert join.missing == ("nope",)
    assert set(join.unhandled) == {"branch_value", "frames"}


def test_timeout_stops_the_step_inside_it_and_keeps_what_it_assigned(run):
    slow = run["slow"].task
    assert slow.data.before_timeout is True
    assert slow.data.timed_out.type == "headwater.exceptions.StepTimedOut"
    assert "timed out after 1 s" in slow.data.timed_out.exception
    assert [m.value for m in slow.metadata if m.name == "attempt"] == ["0"]
