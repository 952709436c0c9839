"""How tasks split and join: the kinds of transitions a step takes, and the split frames a
task carries (its "stack"), shared by the scheduler, the task, the datastore's indexes and the
client.

A task inside a static branch or a foreach has one frame per enclosing split, outermost first.
A frame names the task that split (step, task id, attempt), this task's position among the
splits and how many there are; a foreach frame also names the artifact it iterates. A join
pops the innermost frame; it is ready once every split of that frame has arrived.
"""

from __future__ import annotations

from collections.abc import Mapping

from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class TransitionKind:
    """What a step's ``self.next(...)`` did."""

    LINEAR = "linear"  # one successor
    SPLIT = "split"  # a static branch: every target runs
    FOREACH = "foreach"  # one task of the target per element
    SWITCH = "switch"  # one target, chosen by a value
    PARALLEL = "parallel"  # a @parallel gang of num_splits tasks of the target
    END = "end"  # the end step: no successor

    ALL = frozenset({LINEAR, SPLIT, FOREACH, SWITCH, PARALLEL, END})


class Transition(Record):
    """The ``self.next`` a task took, resolved to concrete successors."""

    kind: str  # a TransitionKind
    targets: tuple[str, ...] = ()
    foreach_var: str | None = None
    num_splits: int | None = None
    switch_value: str | None = None  # repr of the condition's value, for logs

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self._asdict().items() if v is not None}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Transition:
        return cls(
            kind=d["kind"],
            targets=tuple(d.get("targets", ())),
            foreach_var=d.get("foreach_var"),
            num_splits=d.get("num_splits"),
            switch_value=d.get("switch_value"),
        )


class FrameKind:
    SPLIT = "split"
    FOREACH = "foreach"
    PARALLEL = "parallel"  # a task of a @parallel gang (index 0: the control task)

    INDEXED = frozenset({FOREACH, PARALLEL})  # give the task an input and an index


class SplitFrame(Record):
    """One enclosing split of a task."""

    kind: str  # FrameKind.SPLIT or FrameKind.FOREACH
    step: str  # the step that split
    task: str  # its task id
    attempt: int  # the attempt of that task whose transition made the split
    index: int  # this task's position among the splits (branch order, foreach index)
    num_splits: int
    var: str | None = None  # foreach: the artifact iterated
    control_task: str | None = None  # parallel: the gang's control task id, once known

    @property
    def is_foreach(self) -> bool:
        """A frame that gives its task an input and an index (a foreach, a gang)."""
        return self.kind in FrameKind.INDEXED

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": self.kind,
            "step": self.step,
            "task": self.task,
            "attempt": self.attempt,
            "index": self.index,
            "num_splits": self.num_splits,
        }
        if self.var is not None:
            d["var"] = self.var
        if self.control_task is not None:
            d["control_task"] = self.control_task
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SplitFrame:
        return cls(
            kind=str(d["kind"]),
            step=str(d["step"]),
            task=str(d["task"]),
            attempt=int(d.get("attempt", 0)),
            index=int(d["index"]),
            num_splits=int(d["num_splits"]),
            var=d.get("var"),
            control_task=d.get("control_task"),
        )


Stack = tuple[SplitFrame, ...]


def stack_from_json(frames: Any) -> Stack:
    return tuple(f if isinstance(f, SplitFrame) else SplitFrame.from_json(f) for f in frames)


def stack_to_json(stack: Stack) -> list[dict[str, Any]]:
    return [f.to_json() for f in stack]


def foreach_frames(stack: Stack) -> list[SplitFrame]:
    return [f for f in stack if f.is_foreach]


def foreach_index(stack: Stack) -> int | None:
    """The innermost foreach index of a task, None outside any foreach."""
    for frame in reversed(stack):
        if frame.is_foreach:
            return frame.index
    return None


def successors(parent: Any, stack: Stack, t: Transition) -> list[tuple[str, Stack]]:
    """The tasks a finished task's transition starts: ``(step, split stack)`` each, in order
    (branch order; foreach index). ``parent`` is the task's AttemptPath. A join among the
    targets is entered once per arriving split; the caller waits for all of them."""
    if t.kind in (TransitionKind.LINEAR, TransitionKind.SWITCH):
        return [(t.targets[0], stack)]
    if t.kind == TransitionKind.SPLIT:
        n = len(t.targets)
        return [
            (target, (*stack, _frame(FrameKind.SPLIT, parent, i, n, None)))
            for i, target in enumerate(t.targets)
        ]
    if t.kind == TransitionKind.FOREACH:
        n = int(t.num_splits or 0)
        target = t.targets[0]
        return [
            (target, (*stack, _frame(FrameKind.FOREACH, parent, i, n, t.foreach_var)))
            for i in range(n)
        ]
    if t.kind == TransitionKind.PARALLEL:
        n = int(t.num_splits or 0)
        target = t.targets[0]
        return [
            (target, (*stack, _frame(FrameKind.PARALLEL, parent, i, n, None))) for i in range(n)
        ]
    if t.kind == TransitionKind.END:
        return []
    raise ValueError(f"unknown transition kind {t.kind!r}")


def _frame(kind: str, parent: Any, index: int, n: int, var: str | None) -> SplitFrame:
    return SplitFrame(kind, parent.step, parent.task_id, parent.attempt, index, n, var)
