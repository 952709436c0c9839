"""Split frames and transitions: what a finished task starts, and their JSON forms."""

from __future__ import annotations

import pytest

from headwater.core.ids import AttemptPath
from headwater.core.splits import (
    FrameKind,
    SplitFrame,
    Transition,
    TransitionKind,
    foreach_index,
    stack_from_json,
    stack_to_json,
    successors,
)

PARENT = AttemptPath("F", "3", "start", "7", 1)


def test_linear_and_switch_keep_the_stack():
    outer = (SplitFrame(FrameKind.FOREACH, "a", "1", 0, 2, 5, "xs"),)
    assert successors(PARENT, outer, Transition(TransitionKind.LINEAR, ("b",))) == [("b", outer)]
    switch = Transition(TransitionKind.SWITCH, ("c",), switch_value="'x'")
    assert successors(PARENT, outer, switch) == [("c", outer)]
    assert successors(PARENT, outer, Transition(TransitionKind.END)) == []


def test_a_branch_adds_one_split_frame_per_target_in_order():
    out = successors(PARENT, (), Transition(TransitionKind.SPLIT, ("b", "c")))
    assert [step for step, _ in out] == ["b", "c"]
    assert [stack for _, stack in out] == [
        (SplitFrame(FrameKind.SPLIT, "start", "7", 1, 0, 2),),
        (SplitFrame(FrameKind.SPLIT, "start", "7", 1, 1, 2),),
    ]


def test_a_foreach_adds_a_frame_per_element_naming_the_splitting_attempt():
    t = Transition(TransitionKind.FOREACH, ("body",), foreach_var="xs", num_splits=3)
    out = successors(PARENT, (), t)
    assert [(s, st[-1].index, st[-1].num_splits, st[-1].var) for s, st in out] == [
        ("body", 0, 3, "xs"),
        ("body", 1, 3, "xs"),
        ("body", 2, 3, "xs"),
    ]
    assert {(st[-1].step, st[-1].task, st[-1].attempt) for _, st in out} == {("start", "7", 1)}
    assert foreach_index(out[2][1]) == 2


def test_an_unknown_transition_is_an_error():
    with pytest.raises(ValueError, match="unknown transition kind"):
        successors(PARENT, (), Transition("teleport", ("x",)))


def test_stacks_round_trip_through_json():
    stack = (
        SplitFrame(FrameKind.SPLIT, "a", "1", 0, 1, 2),
        SplitFrame(FrameKind.FOREACH, "b", "t-9f", 2, 4, 10, "items"),
    )
    data = stack_to_json(stack)
    assert "var" not in data[0] and data[1]["var"] == "items"
    assert stack_from_json(data) == stack
    assert foreach_index(stack) == 4 and foreach_index(stack[:1]) is None
    t = Transition(TransitionKind.FOREACH, ("b",), foreach_var="xs", num_splits=4)
    assert Transition.from_json(t.to_json()) == t
