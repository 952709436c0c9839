"""The runtime: one single-threaded, event-driven loop per run.

It plans tasks from the graph, launches them through an executor up to ``max_workers`` at a
time, streams their output, records every attempt, and schedules successors from the
transition each task reports. It never sleeps on a fixed interval: it waits on the tasks'
pipes and the executor's exit notifications with a selector.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import selectors
import signal
import sys
import time
from collections import deque
from collections.abc import Mapping

from headwater.core.graph import FlowGraph, NodeType
from headwater.core.ids import AttemptPath
from headwater.core.splits import (
    Stack,
    Transition,
    TransitionKind,
    foreach_index,
    successors,
)
from headwater.exceptions import DatastoreError
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.record import EMPTY_MAPPING, Record
from headwater.runtime.executor import Executor
from headwater.runtime.gangs import Gang, GangSteps, gang_index
from headwater.runtime.spec import (
    StepPolicy,
    TaskResult,
    TaskSpec,
    exit_result,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Protocol

    from headwater.datastore.storage import LogSink
    from headwater.datastore.store import Datastore
    from headwater.metadata_store.store import MetadataStore
    from headwater.runtime.resume import Cloner
else:  # interfaces only: at run time a plain base, and typing is never imported
    Protocol = object


class RunEvents(Protocol):
    """Where the runtime reports progress; the CLI implements it (the runtime never prints)."""

    def task_started(self, spec: TaskSpec) -> None: ...

    def task_output(self, spec: TaskSpec, stream: str, line: str) -> None: ...

    def task_finished(self, spec: TaskSpec, result: TaskResult) -> None: ...

    def task_retrying(self, spec: TaskSpec, wait_s: float) -> None: ...

    def task_cloned(self, run_id: str, step: str, task_id: str, origin: str) -> None: ...


class Pending:
    """A task waiting to be launched (or launched again); ``_launch`` sets its ``task_id``."""

    __slots__ = ("step", "inputs", "stack", "attempt", "task_id", "fallback")

    def __init__(
        self,
        step: str,
        inputs: tuple[AttemptPath, ...],
        stack: Stack,
        attempt: int = 0,
        task_id: str | None = None,  # set for a retry of an existing task
        fallback: tuple[str, str] | None = None,  # (headline, traceback) for @catch to record
    ) -> None:
        self.step = step
        self.inputs = inputs
        self.stack = stack
        self.attempt = attempt
        self.task_id = task_id
        self.fallback = fallback

    def again(self, attempt: int, fallback: tuple[str, str] | None = None) -> Pending:
        """The next attempt of this (registered) task."""
        return Pending(self.step, self.inputs, self.stack, attempt, self.task_id, fallback)


class Running:
    """A launched task attempt: its pipes, partial output and log files, until it exits."""

    __slots__ = (
        "spec",
        "pending",
        "handle",
        "fds",
        "logs",
        "partial",
        "result",
        "exit_code",
        "started",
        "deadline",
        "timed_out",
        "save_logs",
    )

    def __init__(self, spec: TaskSpec, pending: Pending, handle: int, fds: dict[int, str]) -> None:
        self.spec = spec
        self.pending = pending
        self.handle = handle
        self.fds = fds  # read fd -> "stdout" | "stderr" | "result"
        self.logs: dict[str, LogSink | None] = {}
        self.partial: dict[str, bytes] = {}
        self.result = bytearray()
        self.exit_code: int | None = None
        self.started = time.time()
        self.deadline: float | None = None
        self.timed_out = False
        self.save_logs = True  # False: the task saves its own logs (it runs supervised elsewhere)


class RunSummary(Record):
    flow: str
    run_id: str
    status: RunStatus
    tasks_run: int
    wall_s: float
    failed: tuple[tuple[str, str], ...]  # (task pathspec, exception headline)
    tasks_cloned: int = 0
    attempts: int = 0  # attempts started: tasks_run plus retries


class RunOptions(Record):
    max_workers: int = 16
    max_num_splits: int = 100
    user: str = ""
    tags: tuple[str, ...] = ()
    namespace: str | None = None
    origin_run_id: str | None = None
    policies: Mapping[str, StepPolicy] = EMPTY_MAPPING
    decospecs: tuple[str, ...] = ()


_NO_POLICY = StepPolicy()
_BATCH_MAX = 256  # tasks recorded (or cloned) per metadata transaction when launching
_INTERRUPTED = "Interrupted: the run was stopped (Ctrl-C)"


class Scheduler(GangSteps):
    def __init__(
        self,
        flow: str,
        run_id: str,
        graph: FlowGraph,
        datastore: Datastore,
        metadata: MetadataStore,
        executor: Executor,
        events: RunEvents,
        options: RunOptions,
        cloner: Cloner | None = None,
    ) -> None:
        self.flow = flow
        self.run_id = run_id
        self.graph = graph
        self.ds = datastore
        self.md = metadata
        self.executor = executor
        self.events = events
        self.opts = options
        self.cloner = cloner  # set when resuming: clones finished tasks of the origin run
        self.queue: deque[Pending] = deque()
        self.running: dict[int, Running] = {}  # executor handle -> task
        self.by_fd: dict[int, Running] = {}
        self.joins: dict[tuple[str, str, str], dict[int, AttemptPath | None]] = {}
        self.sel = selectors.DefaultSelector()
        self.exec_fds: set[int] = set()
        self.failed: list[tuple[str, str]] = []
        self.tasks_run = 0  # tasks started (a retry is another attempt of the same task)
        self.attempts = 0
        self.end_done = False
        self.stopping = False  # set when the run is being stopped (Ctrl-C)
        self.params_token = AttemptPath(flow, run_id, "_parameters", "0", 0).to_token()
        self.timers: list[tuple[float, int, Pending]] = []  # delayed retries
        self.gangs: dict[tuple[str, str, str], Gang] = {}  # @parallel gangs, by their frame
        self.gang_workers = 0  # running @parallel workers (not counted in --max-workers)
        self._seq = itertools.count()

    # --- the loop -----------------------------------------------------------------------------
    def run(self) -> RunSummary:
        t0 = time.perf_counter()
        self.queue.append(Pending(self.graph.start, (), ()))
        status = RunStatus.FAILED
        try:
            while self.queue or self.running or self.timers:
                self._release_timers()
                self._launch_ready()
                if not self.running and (self.stopping or not self.timers):
                    break
                self._wait()
                self._enforce_timeouts()
            status = RunStatus.COMPLETED if self.end_done and not self.failed else RunStatus.FAILED
        except KeyboardInterrupt:
            status = RunStatus.INTERRUPTED
            self._kill_all()
        finally:
            self.md.set_run_status(self.flow, self.run_id, status)
            self.sel.close()
        return RunSummary(
            self.flow,
            self.run_id,
            status,
            self.tasks_run,
            time.perf_counter() - t0,
            tuple(self.failed),
            self.cloner.cloned if self.cloner is not None else 0,
            self.attempts,
        )

    def _next_seq(self) -> int:
        return next(self._seq)

    def _release_timers(self) -> None:
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            self.queue.append(heapq.heappop(self.timers)[2])

    def _next_wakeup(self) -> float | None:
        """Seconds until the next retry is due or a timeout expires (None: no such event)."""
        due = [t.deadline for t in self.running.values() if t.deadline and not t.timed_out]
        if self.timers:
            due.append(self.timers[0][0])
        if not due:
            return None
        return max(0.0, min(due) - time.monotonic())

    def _enforce_timeouts(self) -> None:
        now = time.monotonic()
        for handle, task in self.running.items():
            if task.deadline is not None and not task.timed_out and now >= task.deadline:
                task.timed_out = True
                self.executor.kill(handle, signal.SIGKILL)

    def _wait(self, timeout: float | None = None) -> None:
        wakeup = self._next_wakeup()
        if timeout is not None:
            wakeup = timeout if wakeup is None else min(wakeup, timeout)
        events = self.sel.select(wakeup)
        with self.md.batch():  # what finished in this turn is recorded in one transaction
            for key, _ in events:
                fd = key.fd
                if key.data == "exec":
                    for handle, code in self.executor.reap(fd):
                        self._exited(handle, code)
                    self._sync_exec_fds()
                else:
                    task = self.by_fd.get(fd)
                    if task is not None:
                        self._read(task, fd)

    def _sync_exec_fds(self) -> None:
        current = set(self.executor.event_fds())
        for fd in self.exec_fds - current:
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(fd)
        for fd in current - self.exec_fds:
            self.sel.register(fd, selectors.EVENT_READ, "exec")
        self.exec_fds = current

    # --- launching ------------------------------------------------------------------------------
    def _clone(self, p: Pending) -> bool:
        """When resuming, clone the origin run's finished task for ``p`` if there is one."""
        if self.cloner is None or p.task_id is not None:
            return False
        cloned = self.cloner.try_clone(p.step, p.inputs, p.stack, foreach_index(p.stack))
        if cloned is None:
            return False
        self._gang_member_cloned(p)
        me = AttemptPath(self.flow, self.run_id, p.step, cloned.task_id, 0)
        self.events.task_cloned(
            self.run_id, p.step, cloned.task_id, self.cloner.origin_of[cloned.task_id]
        )
        self._schedule_successors(me, p.stack, cloned.transition)
        return True

    def _launch_ready(self) -> None:
        """Start what the queue holds, up to --max-workers: first record every new task and
        attempt in one transaction, committed before any of them starts (a task may read its
        own records), then hand them to the executor."""
        while self._can_launch(0):
            ready: list[tuple[Pending, TaskSpec]] = []
            with self.md.batch():
                # A resume may clone thousands of tasks here: commit every few hundred, so
                # that other writers never wait long for the database.
                for _ in range(_BATCH_MAX):
                    if not self._can_launch(len(ready)):
                        break
                    p = self.queue.popleft()
                    if not self._clone(p):
                        ready.append((p, self._register(p)))
            for p, spec in ready:
                self._launch(p, spec)

    def _can_launch(self, registered: int) -> bool:
        if not self.queue or self.stopping:
            return False
        if gang_index(self.queue[0]):
            return True  # a @parallel worker starts with its control task, whatever the limit
        return len(self.running) - self.gang_workers + registered < self.opts.max_workers

    def _register(self, p: Pending) -> TaskSpec:
        """Record the task (when new) and the attempt ``p`` is about to start; its spec."""
        if p.task_id is None:
            p.task_id = self.md.create_task(
                self.flow,
                self.run_id,
                p.step,
                parents=[f"{self.flow}/{a.run_id}/{a.step}/{a.task_id}" for a in p.inputs],
                foreach_index=foreach_index(p.stack),
            ).task_id
            if gang_index(p) is not None:
                self._join_gang(p)
        policy = self.opts.policies.get(p.step, _NO_POLICY)
        attempt = p.attempt
        spec = TaskSpec(
            flow=self.flow,
            run_id=self.run_id,
            step=p.step,
            task_id=p.task_id,
            attempt=attempt,
            root=self.ds.url,
            datastore=self.ds.storage.kind,
            inputs=tuple(a.to_token() for a in p.inputs),
            stack=p.stack,
            params=self.params_token,
            user=self.opts.user,
            tags=self.opts.tags,
            namespace=self.opts.namespace,
            origin_run_id=self.opts.origin_run_id,
            max_num_splits=self.opts.max_num_splits,
            decospecs=self.opts.decospecs,
            catch_var=policy.catch_var,
            print_exception=policy.print_exception,
            last_attempt=attempt >= policy.retries,
            fallback=p.fallback[0] if p.fallback else None,
            fallback_traceback=p.fallback[1] if p.fallback else None,
        )
        self.md.start_attempt(self.flow, self.run_id, p.step, p.task_id, attempt)
        return spec

    def _launch(self, p: Pending, spec: TaskSpec) -> None:
        policy = self.opts.policies.get(p.step, _NO_POLICY)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            handle = self.executor.launch(spec, out_w, err_w, res_w)
        finally:
            for fd in (out_w, err_w, res_w):
                os.close(fd)
        task = Running(spec, p, handle, {out_r: "stdout", err_r: "stderr", res_r: "result"})
        if _supervised_remotely(self.executor, handle):
            # It saves its own logs and stops itself at @timeout, counted from when it really
            # starts (a cluster may queue it first): the runtime only shows and records.
            task.save_logs = False
        elif policy.timeout_s and p.fallback is None:
            # The task stops itself at timeout_s (@timeout); this is the backstop.
            task.deadline = time.monotonic() + policy.timeout_s + _TIMEOUT_GRACE_S
        self.running[handle] = task
        index = gang_index(p)
        if index:
            self.gang_workers += 1
        gang = self._gang_of(p)
        if gang is not None and index is not None:
            gang.launched(index, handle)
        for fd in task.fds:
            os.set_blocking(fd, False)
            self.by_fd[fd] = task
            self.sel.register(fd, selectors.EVENT_READ, "task")
        self.attempts += 1
        if spec.attempt == 0:
            self.tasks_run += 1
        self.events.task_started(spec)
        self._sync_exec_fds()

    # --- task output ------------------------------------------------------------------------------
    def _read(self, task: Running, fd: int) -> bool:
        """Read what is available on one of the task's pipes; False at EOF."""
        kind = task.fds[fd]
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return True
            if not data:
                self._close_fd(task, fd)
                return False
            if kind == "result":
                task.result += data
            else:
                self._output(task, kind, data)

    def _output(self, task: Running, stream: str, data: bytes) -> None:
        self._save_log(task, stream, data)
        buf = task.partial.get(stream, b"") + data
        *lines, rest = buf.split(b"\n")
        task.partial[stream] = rest
        for line in lines:
            self.events.task_output(task.spec, stream, line.decode("utf-8", errors="replace"))

    def _save_log(self, task: Running, stream: str, data: bytes) -> None:
        """Append to the task's log file; a full or broken disk loses the log, not the run."""
        if not task.save_logs or (stream in task.logs and task.logs[stream] is None):
            return  # saving this log failed earlier
        try:
            log = task.logs.get(stream)
            if log is None:
                log = task.logs[stream] = self.ds.open_log(task.spec.path, stream)
            log.write(data)
        except (OSError, DatastoreError) as ex:
            task.logs[stream] = None
            self.events.task_output(
                task.spec, "stderr", f"(headwater: could not save this task's {stream}: {ex})"
            )

    def _close_fd(self, task: Running, fd: int) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(fd)
        self.by_fd.pop(fd, None)
        os.close(fd)
        kind = task.fds.pop(fd)
        if kind != "result":
            rest = task.partial.pop(kind, b"")
            if rest:
                self.events.task_output(task.spec, kind, rest.decode("utf-8", errors="replace"))

    # --- completion -------------------------------------------------------------------------------
    def _exited(self, handle: int, code: int) -> None:
        task = self.running.pop(handle, None)
        if task is None:
            return
        if gang_index(task.pending):
            self.gang_workers -= 1
        task.exit_code = code
        for fd in list(task.fds):
            # Drain what the task wrote; a leftover grandchild may hold the pipe open, so
            # do not wait for EOF.
            if self._read(task, fd):
                self._close_fd(task, fd)
        for stream, log in task.logs.items():
            if log is not None:
                try:
                    log.close()  # an object store uploads the log now
                except (OSError, DatastoreError) as ex:
                    self.events.task_output(
                        task.spec,
                        "stderr",
                        f"(headwater: could not save this task's {stream}: {ex})",
                    )
        result = self._result_of(task)
        gang = self._gang_of(task.pending)
        if gang is not None:
            self._gang_member_ended(gang, task, result)
            return
        spec = task.spec
        if result.ok:
            self._record(task, result, final=True)
            self.events.task_finished(spec, result)
            if result.transition is not None:
                self._schedule_successors(spec.path, spec.stack, result.transition)
            return
        policy = self.opts.policies.get(spec.step, _NO_POLICY)
        retry = result.retryable and spec.attempt < policy.retries and not self.stopping
        fallback = not retry and policy.catch_var is not None and not self.stopping
        self._record(task, result, final=not (retry or fallback))
        self.events.task_finished(spec, result)
        p = task.pending
        if retry:
            self.events.task_retrying(spec, policy.retry_wait_s)
            nxt = p.again(spec.attempt + 1)
            due = time.monotonic() + policy.retry_wait_s
            heapq.heappush(self.timers, (due, self._next_seq(), nxt))
        elif fallback:
            why = (result.exception or "failed", result.traceback or "")
            self.queue.appendleft(p.again(spec.attempt + 1, why))
        else:
            # Keep running what does not depend on the failed task (its successors never
            # become ready), so that `resume` has only the failed part left to do.
            self.failed.append((spec.pathspec, result.exception or "failed"))

    def _result_of(self, task: Running) -> TaskResult:
        if self.stopping and not task.result and not task.timed_out:
            return TaskResult(ok=False, exception=_INTERRUPTED, wall_s=time.time() - task.started)
        policy = self.opts.policies.get(task.spec.step, _NO_POLICY)
        return exit_result(
            task.spec.step,
            bytes(task.result),
            task.exit_code,
            time.time() - task.started,
            timed_out_after=policy.timeout_s if task.timed_out else None,
        )

    def _record(self, task: Running, result: TaskResult, final: bool = True) -> None:
        s = task.spec
        status = TaskStatus.SUCCEEDED if result.ok else TaskStatus.FAILED
        self.md.finish_attempt(
            self.flow,
            self.run_id,
            s.step,
            s.task_id,
            s.attempt,
            status,
            exception=result.exception,
            traceback=result.traceback,
            metadata={
                **result.metadata(task.exit_code),
                "attempt": str(s.attempt),
                "python_version": _PYTHON_VERSION,
                **({"origin-run-id": s.origin_run_id} if s.origin_run_id else {}),
                **({"internal_task_type": "control_task"} if gang_index(task.pending) == 0 else {}),
            },
        )
        if not result.ok and final:
            self.md.finish_task(self.flow, self.run_id, s.step, s.task_id, TaskStatus.FAILED)

    def _schedule_successors(self, me: AttemptPath, stack: Stack, t: Transition) -> None:
        if t.kind == TransitionKind.END:
            self.end_done = True
            return
        for target, child_stack in successors(me, stack, t):
            self._enqueue(target, me, child_stack)

    def _enqueue(self, step: str, parent: AttemptPath | None, stack: Stack) -> None:
        """Queue ``step`` after ``parent``, or count ``parent`` in for the join ``step`` (None:
        a gang worker left out of its join)."""
        node = self.graph[step]
        if node.type != NodeType.JOIN:
            if parent is not None:
                self.queue.append(Pending(step, (parent,), stack))
            return
        top = stack[-1]
        key = (step, top.step, top.task)
        arrived = self.joins.setdefault(key, {})
        arrived[top.index] = parent
        if len(arrived) == top.num_splits:
            del self.joins[key]
            parents = tuple(p for _, p in sorted(arrived.items()) if p is not None)
            self.queue.append(Pending(step, parents, stack[:-1]))

    # --- stopping ---------------------------------------------------------------------------------
    def _kill_all(self) -> None:
        """Ctrl-C: SIGTERM every task, reap them as usual for a few seconds, then SIGKILL."""
        self.stopping = True  # nothing new starts, nothing is retried
        for handle in list(self.running):
            self.executor.kill(handle, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while self.running and time.monotonic() < deadline:
            with contextlib.suppress(KeyboardInterrupt):
                self._wait(max(0.0, deadline - time.monotonic()))
        for handle, task in list(self.running.items()):
            self.executor.kill(handle, signal.SIGKILL)
            del self.running[handle]
            self._record(task, TaskResult(ok=False, exception=_INTERRUPTED))


_TIMEOUT_GRACE_S = 2.0  # how long after its @timeout a task that did not stop is killed
_PYTHON_VERSION = "{}.{}.{}".format(*sys.version_info[:3])


def _supervised_remotely(executor: Executor, handle: int) -> bool:
    """Whether the executor runs the attempt under ``supervise()`` elsewhere (an optional
    part of the Executor protocol: ``supervised_remotely(handle)``)."""
    ask = getattr(executor, "supervised_remotely", None)
    return bool(ask is not None and ask(handle))
