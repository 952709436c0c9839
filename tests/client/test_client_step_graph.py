"""A step's neighbours in the flow's graph (parent_steps, child_steps), read from the graph
the run saved, and a run's tags as Metaflow's client edits them."""

from __future__ import annotations

import re

import pytest

from headwater.client import Flow, metadata, namespace
from headwater.exceptions import TagError


@pytest.fixture
def branch_run(run_flow, hw_root):
    proc = run_flow("branch.py", "run")
    assert proc.returncode == 0, proc.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    return Flow("BranchFlow")[re.search(r"Run (\d+) of", proc.stderr).group(1)]


def test_parent_and_child_steps(branch_run):
    def names(steps):
        return sorted(s.id for s in steps)

    assert names(branch_run["start"].child_steps) == ["add", "mul"]
    assert names(branch_run["join"].parent_steps) == ["add", "mul"]
    assert names(branch_run["add"].parent_steps) == ["start"]
    assert names(branch_run["start"].parent_steps) == []
    assert names(branch_run["end"].child_steps) == []
    assert branch_run["add"].origin_pathspec is None  # not a resumed run


def test_adding_a_tag_the_run_has_as_a_system_tag_is_a_no_op(branch_run):
    system = sorted(branch_run.system_tags)[0]
    branch_run.add_tags(["mine", system])
    assert branch_run.user_tags == frozenset({"mine"})
    assert system in branch_run.system_tags
    with pytest.raises(TagError):  # a new tag that only looks like a system tag is refused
        branch_run.add_tag("user:someone-else")
    with pytest.raises(TagError, match="is a system tag"):
        branch_run.remove_tags(["mine", system])
    assert "mine" in branch_run.user_tags  # all or nothing


def test_replacing_nothing_with_nothing_is_an_error(branch_run):
    with pytest.raises(TagError, match="needs tags to remove or to add"):
        branch_run.replace_tags([], [])


def test_flat_tag_list_is_also_on_stderr_for_metaflows_scripts(branch_run, run_flow):
    proc = run_flow("branch.py", "tag", "list", "--flat", "--run-id", branch_run.id)
    assert proc.returncode == 0, proc.stderr
    tags = sorted(branch_run.tags)
    assert proc.stdout.splitlines() == tags
    # Metaflow's --flat writes the list on stderr after one line; its scripts skip that line.
    assert proc.stderr.splitlines()[1:] == tags
