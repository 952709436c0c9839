"""Addresses of runs, steps, tasks and attempts, and pathspec parsing."""

from __future__ import annotations

from headwater.exceptions import InvalidPathspec
from headwater.record import Record

PARAMS_STEP = "_parameters"
PARAMS_TASK = "0"


class TaskPath(Record):
    """One task of one run: ``Flow/run/step/task``."""

    flow: str
    run_id: str
    step: str
    task_id: str

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}/{self.step}/{self.task_id}"

    def attempt(self, attempt: int) -> AttemptPath:
        return AttemptPath(self.flow, self.run_id, self.step, self.task_id, attempt)


class AttemptPath(Record):
    """One attempt of one task; the unit that owns an artifact index and logs."""

    flow: str
    run_id: str
    step: str
    task_id: str
    attempt: int

    @property
    def task(self) -> TaskPath:
        return TaskPath(self.flow, self.run_id, self.step, self.task_id)

    @property
    def pathspec(self) -> str:
        return self.task.pathspec

    def to_token(self) -> str:
        """Compact form used inside one flow: ``run/step/task/attempt``."""
        return f"{self.run_id}/{self.step}/{self.task_id}/{self.attempt}"

    @classmethod
    def from_token(cls, flow: str, token: str) -> AttemptPath:
        parts = token.split("/")
        if len(parts) != 4:
            raise InvalidPathspec(f"bad attempt token {token!r}: expected run/step/task/attempt")
        return cls(flow, parts[0], parts[1], parts[2], int(parts[3]))


def params_path(flow: str, run_id: str) -> AttemptPath:
    """Where a run's parameters and class constants are stored (a pseudo-task)."""
    return AttemptPath(flow, run_id, PARAMS_STEP, PARAMS_TASK, 0)


def split_pathspec(pathspec: str, min_parts: int = 1, max_parts: int = 4) -> list[str]:
    """Split ``Flow[/run[/step[/task]]]`` and check its shape."""
    if not isinstance(pathspec, str) or not pathspec:
        raise InvalidPathspec(
            f"pathspec must be a non-empty string like 'Flow/run', got {pathspec!r}"
        )
    parts = pathspec.strip("/").split("/")
    if any(not p for p in parts) or not (min_parts <= len(parts) <= max_parts):
        shapes = ["Flow", "Flow/run", "Flow/run/step", "Flow/run/step/task"]
        want = " or ".join(f"'{s}'" for s in shapes[min_parts - 1 : max_parts])
        raise InvalidPathspec(f"malformed pathspec {pathspec!r}: expected {want}")
    return parts


DERIVED_PREFIX = "t-"


def derived_task_id(
    step: str, parents: list[str] | tuple[str, ...], split_index: int | None
) -> str:
    """The id of a task that has no runtime to number it (a production scheduler runs it):
    derived from its step, its parents' pathspecs and its foreach split index, so every
    process that plans it (and every retry of it) finds the same id without asking anyone.
    12 hex digits: a collision within one step of one run needs millions of tasks."""
    import hashlib

    text = "\n".join([step, *sorted(parents), "" if split_index is None else str(split_index)])
    return DERIVED_PREFIX + hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
