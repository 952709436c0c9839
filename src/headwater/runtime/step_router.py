"""Several executors in one run: each task goes to its step's executor.

A step whose decorators name an executor (``@ray``, ``@kubernetes``) runs there; every other
step runs on the run's default executor. The router is itself an Executor, so the scheduler
neither knows nor cares: handles are renumbered to stay unique across executors, and each
executor's event fds are reaped by that executor.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from headwater.runtime.executor import Executor
from headwater.runtime.spec import TaskSpec


class StepRouter:
    def __init__(
        self, executors: Mapping[str, Executor], default: str, by_step: Mapping[str, str]
    ) -> None:
        self.executors = dict(executors)
        self.default = default
        self.by_step = dict(by_step)
        self._handles = itertools.count(1)
        self._routes: dict[int, tuple[Executor, int]] = {}  # our handle -> (executor, theirs)
        self._ours: dict[tuple[int, int], int] = {}  # (id(executor), theirs) -> ours
        self._fd_owner: dict[int, Executor] = {}

    def start(self) -> None:
        for executor in self.executors.values():
            executor.start()

    def launch(self, spec: TaskSpec, stdout_fd: int, stderr_fd: int, result_fd: int) -> int:
        executor = self.executors[self.by_step.get(spec.step, self.default)]
        theirs = executor.launch(spec, stdout_fd, stderr_fd, result_fd)
        ours = next(self._handles)
        self._routes[ours] = (executor, theirs)
        self._ours[(id(executor), theirs)] = ours
        return ours

    def event_fds(self) -> list[int]:
        self._fd_owner = {fd: ex for ex in self.executors.values() for fd in ex.event_fds()}
        return list(self._fd_owner)

    def reap(self, fd: int) -> list[tuple[int, int]]:
        executor = self._fd_owner.get(fd)
        if executor is None:
            return []
        out = []
        for theirs, code in executor.reap(fd):
            ours = self._ours.pop((id(executor), theirs), None)
            if ours is not None:
                self._routes.pop(ours, None)
                out.append((ours, code))
        return out

    def kill(self, handle: int, sig: int) -> None:
        route = self._routes.get(handle)
        if route is not None:
            route[0].kill(route[1], sig)

    def supervised_remotely(self, handle: int) -> bool:
        route = self._routes.get(handle)
        if route is None:
            return False
        ask = getattr(route[0], "supervised_remotely", None)
        return bool(ask is not None and ask(route[1]))

    def close(self) -> None:
        for executor in self.executors.values():
            executor.close()
