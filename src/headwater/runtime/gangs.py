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
all. :class:`Gang` keeps one gang's state and decides; :class:`GangSteps` is the scheduler's
part for gangs (a base of :class:`headwater.runtime.scheduler.Scheduler`).
"""

from __future__ import annotations

import heapq
import signal
import time

from headwater.core.splits import FrameKind
from headwater.runtime.spec import StepPolicy, TaskResult

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections import deque
    from typing import Any

    from headwater.core.graph import FlowGraph
    from headwater.core.ids import AttemptPath
    from headwater.core.splits import Stack, Transition
    from headwater.runtime.executor import Executor
    from headwater.runtime.scheduler import Pending, RunEvents, Running, RunOptions

_NO_POLICY = StepPolicy()


def gang_index(p: Pending) -> int | None:
    """The node index of a task of a @parallel gang (0: its control task), else None."""
    top = p.stack[-1] if p.stack else None
    if top is None or top.kind != FrameKind.PARALLEL:
        return None
    return top.index


class GangSteps:
    """What the scheduler does for the tasks of @parallel gangs."""

    if TYPE_CHECKING:  # the scheduler's, used here
        gangs: dict[tuple[str, str, str], Gang]
        executor: Executor
        events: RunEvents
        opts: RunOptions
        graph: FlowGraph
        queue: deque[Pending]
        timers: list[tuple[float, int, Pending]]
        failed: list[tuple[str, str]]
        stopping: bool

        def _next_seq(self) -> int: ...

        def _record(self, task: Running, result: TaskResult, final: bool = True) -> None: ...

        def _schedule_successors(self, me: AttemptPath, stack: Stack, t: Transition) -> None: ...

        def _enqueue(self, step: str, parent: AttemptPath | None, stack: Stack) -> None: ...

    def _join_gang(self, p: Pending) -> None:
        """Tell a newly registered task of a gang its control task (the gang's task 0,
        registered first): the frame carries the control task's id."""
        top = p.stack[-1]
        key = (p.step, top.step, top.task)
        if top.index == 0:
            self.gangs[key] = Gang(str(p.task_id), top.num_splits)
        gang = self.gangs.get(key)
        control = gang.control if gang is not None else str(p.task_id)
        p.stack = (*p.stack[:-1], top._replace(control_task=control))

    def _gang_of(self, p: Pending) -> Gang | None:
        """The gang an attempt of a @parallel task belongs to (None: not in a gang, or the
        control task recording the gang's failure for @catch, which runs alone)."""
        if p.fallback is not None or not p.stack or p.stack[-1].kind != FrameKind.PARALLEL:
            return None
        top = p.stack[-1]
        return self.gangs.get((p.step, top.step, top.task))

    def _gang_member_cloned(self, p: Pending) -> None:
        """When resuming, a task of a gang whose control task runs again was cloned: the gang
        waits for one task fewer."""
        gang = self._gang_of(p)
        if gang is not None:
            gang.size -= 1

    def _gang_member_ended(self, gang: Gang, task: Running, result: TaskResult) -> None:
        """A task of a gang ended: its first failure stops the others; once all have ended,
        the gang goes on to its join, runs again, or fails, together."""
        index = gang_index(task.pending)
        assert index is not None
        for handle in gang.member_ended(index, task, result):
            self.executor.kill(handle, signal.SIGKILL)
        if not gang.complete:
            return
        policy = self.opts.policies.get(task.spec.step, _NO_POLICY)
        settled = gang.settle(policy, self.stopping)
        final = settled.kind != Settle.RETRY
        if final:
            top = task.spec.stack[-1]
            self.gangs.pop((task.spec.step, top.step, top.task), None)
        for member, own in settled.records:
            caught_later = settled.kind == Settle.CAUGHT and gang_index(member.pending) == 0
            self._record(member, own, final=final and not caught_later)
            self.events.task_finished(member.spec, own)
        if settled.kind == Settle.JOINED:
            for member, own in settled.records:
                if own.transition is not None:
                    self._schedule_successors(member.spec.path, member.spec.stack, own.transition)
            return
        assert settled.cause is not None
        cause, why = settled.cause
        if settled.kind == Settle.RETRY:
            self.events.task_retrying(cause.spec, policy.retry_wait_s)
            due = time.monotonic() + policy.retry_wait_s
            for member, _ in settled.records:  # node order: the control task first
                nxt = member.pending.again(member.spec.attempt + 1)
                heapq.heappush(self.timers, (due, self._next_seq(), nxt))
        elif settled.kind == Settle.CAUGHT:
            # The control task keeps the failure (its catch variable); the workers are left
            # out of the join.
            fallback = (why.exception or "failed", why.traceback or "")
            for member, _ in reversed(settled.records):
                if gang_index(member.pending) == 0:
                    self.queue.appendleft(member.pending.again(member.spec.attempt + 1, fallback))
                else:
                    out = self.graph[member.spec.step].out_funcs[0]
                    self._enqueue(out, None, member.spec.stack)
        else:
            # Keep running what does not depend on the gang; the run names the task that
            # failed first.
            self.failed.append((cause.spec.pathspec, why.exception or "failed"))


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
