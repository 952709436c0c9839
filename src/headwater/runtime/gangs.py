"""@parallel gangs in the runtime: the N tasks of a gang succeed, retry and fail together.

A gang's tasks (its control task, node 0, and N-1 workers) start together, and the runtime
holds what each of them reports until every task of the gang's attempt has ended. The first
task to fail decides for the gang: the runtime stops the tasks still running (their attempts
are recorded as failed, "Stopped: ..."), and once all have ended, either

- every task of the gang runs again as the next attempt, when the failure is retryable and
  the step's @retry has attempts left (attempt numbers move together);
- with @catch, the control task records the failure (its catch variable) and the workers are
  left out of the join;
- else the step fails, and the run names the task that failed first.

When every task of the attempt succeeded, their attempts are recorded and the join gets them
all. This module keeps one gang's state and decides; the scheduler records and launches.
"""

from __future__ import annotations

from headwater.runtime.spec import StepPolicy, TaskResult

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class Settle:
    """What a gang's attempt came to, once every task of it ended."""

    JOINED = "joined"  # every task succeeded: record them and go on to the join
    RETRY = "retry"  # every task runs again as the next attempt
    CAUGHT = "caught"  # @catch: the control task records the failure, workers are left out
    FAILED = "failed"  # the step failed


class Gang:
    """One @parallel gang: its control task and the tasks of its current attempt."""

    __slots__ = ("control", "size", "handles", "ended", "cause", "stopped")

    def __init__(self, control: str, size: int) -> None:
        self.control = control  # the control task's id
        self.size = size
        self.handles: dict[int, int] = {}  # node index -> executor handle, while it runs
        self.ended: dict[int, tuple[Any, TaskResult]] = {}  # node index -> (Running, result)
        self.cause: tuple[int, Any, TaskResult] | None = None  # the first task that failed
        self.stopped: set[int] = set()  # node indices stopped because another task failed

    def launched(self, index: int, handle: int) -> None:
        self.handles[index] = handle

    def member_ended(self, index: int, task: Any, result: TaskResult) -> list[int]:
        """Keep how the task ended; the handles to stop when it is the gang's first failure."""
        self.handles.pop(index, None)
        self.ended[index] = (task, result)
        if result.ok or self.cause is not None:
            return []
        self.cause = (index, task, result)
        stop = [h for i, h in sorted(self.handles.items()) if i not in self.ended]
        self.stopped.update(i for i, _ in self.handles.items())
        return stop

    @property
    def complete(self) -> bool:
        return len(self.ended) == self.size

    def settle(self, policy: StepPolicy, stopping: bool) -> Settled:
        """How the attempt ends; the gang is then ready for its next attempt."""
        ended = sorted(self.ended.items())
        cause, stopped = self.cause, self.stopped
        self.ended, self.handles, self.cause, self.stopped = {}, {}, None, set()
        if cause is None:
            return Settled(Settle.JOINED, [e for _, e in ended])
        first, task, result = cause
        retry = result.retryable and task.spec.attempt < policy.retries and not stopping
        if retry:
            kind = Settle.RETRY
        elif policy.catch_var is not None and not stopping:
            kind = Settle.CAUGHT
        else:
            kind = Settle.FAILED
        who = "/".join(task.spec.pathspec.split("/")[2:])
        stop = TaskResult(
            ok=False,
            exception=(
                f"Stopped: task {who} of this @parallel gang failed "
                f"({result.exception or 'failed'}), so the whole gang "
                + ("runs again" if retry else "stops")
            ),
            retryable=False,
        )
        records = [
            (
                member,
                own
                if i == first or not (own.ok or i in stopped)
                else stop._replace(wall_s=own.wall_s),
            )
            for i, (member, own) in ended
        ]
        return Settled(kind, records, (task, result))


class Settled:
    """A gang's attempt, settled: how it ended, each task's (Running, result to record) by
    node index, and the (Running, result) of the task that failed first."""

    __slots__ = ("kind", "records", "cause")

    def __init__(
        self,
        kind: str,
        records: list[tuple[Any, TaskResult]],
        cause: tuple[Any, TaskResult] | None = None,
    ) -> None:
        self.kind = kind
        self.records = records
        self.cause = cause
