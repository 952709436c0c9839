"""The runtime's half of a remote executor, with a real driver process: what the runtime sees
when the driver cannot run its backend (every task fails with one line, none hangs)."""

from __future__ import annotations

import os
import select

from headwater.runtime.executor import ExecutorContext
from headwater.runtime.remote_executor import RemoteExecutor
from headwater.runtime.spec import SpillDir, TaskResult, TaskSpec


class BrokenExecutor(RemoteExecutor):
    name = "broken"
    backend = "headwater_no_such_module:Backend"


def _spec(task_id: str) -> TaskSpec:
    return TaskSpec(
        flow="F", run_id="1", step="start", task_id=task_id, attempt=0, root="/nowhere",
        inputs=(), params="1/_parameters/0/0",
    )  # fmt: skip


def test_a_driver_that_cannot_start_fails_every_task_with_one_line():
    class Flow:
        start = None

    spill = SpillDir()
    executor = BrokenExecutor(ExecutorContext(Flow, None, "flow.py", spill))
    executor.start()
    try:
        pipes = []
        handles = []
        for task_id in ("1", "2"):
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            res_r, res_w = os.pipe()
            handles.append(executor.launch(_spec(task_id), out_w, err_w, res_w))
            for fd in (out_w, err_w, res_w):
                os.close(fd)
            pipes.append((out_r, err_r, res_r))
        assert executor.supervised_remotely(handles[0])
        exited: dict[int, int] = {}
        while len(exited) < 2:
            fds = executor.event_fds()
            assert fds, "the executor gave up without reporting the tasks"
            ready, _, _ = select.select(fds, [], [], 60)
            assert ready, "no task was reported within a minute"
            for fd in ready:
                exited.update(executor.reap(fd))
        assert sorted(exited) == sorted(handles) and set(exited.values()) == {1}
        for out_r, err_r, res_r in pipes:
            result = TaskResult.from_bytes(os.read(res_r, 65536))
            assert not result.ok and not result.retryable
            assert result.exception.startswith("broken executor: its driver process stopped")
            for fd in (out_r, err_r, res_r):
                os.close(fd)
    finally:
        executor.close()
        spill.remove()
