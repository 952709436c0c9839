"""`current` outside a run: every fact is None (is_running_flow False), nothing is created."""

from __future__ import annotations

import pytest

from headwater import current

FIELDS = [
    "flow_name",
    "run_id",
    "step_name",
    "task_id",
    "retry_count",
    "origin_run_id",
    "pathspec",
    "namespace",
    "username",
    "tags",
    "tempdir",
    "parameter_names",
    "graph",
    "run",
    "task",
    # set by decorators inside tasks
    "project_name",
    "branch_name",
    "is_user_branch",
    "is_production",
    "project_flow_name",
]


@pytest.mark.parametrize("name", FIELDS)
def test_outside_a_run_every_fact_is_none(name):
    assert getattr(current, name) is None
    assert name not in current
    assert current.get(name, "fallback") == "fallback"


def test_outside_a_run_is_running_flow_is_false():
    assert current.is_running_flow is False
    assert repr(current) == "<current (not in a task)>"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        current.no_such_thing  # noqa: B018
