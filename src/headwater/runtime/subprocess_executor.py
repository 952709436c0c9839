"""The subprocess executor: each task attempt is a fresh ``python flow.py step`` process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable

from headwater.runtime.lifeline import die_with_parent
from headwater.runtime.spec import SpillDir, TaskSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class SubprocessExecutor:
    """Runs the same task code as the fork executor, in a new interpreter per attempt."""

    @classmethod
    def from_context(cls, ctx: Any) -> SubprocessExecutor:
        return cls(ctx.script, ctx.spill_dir)

    def __init__(self, script: str, spill_dir: SpillDir, python: str | None = None) -> None:
        self.script = os.path.abspath(script)
        self.spill_dir = spill_dir
        self.python = python or sys.executable
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.pidfds: dict[int, int] = {}  # pidfd -> pid

    def start(self) -> None:
        pass

    def command(self, spec: TaskSpec, result_fd: int) -> list[str]:
        return [
            self.python,
            self.script,
            "step",
            spec.step,
            "--spec",
            spec.encode(self.spill_dir).decode(),
            "--result-fd",
            str(result_fd),
        ]

    def launch(self, spec: TaskSpec, stdout_fd: int, stderr_fd: int, result_fd: int) -> int:
        proc = subprocess.Popen(
            self.command(spec, result_fd),
            stdin=subprocess.DEVNULL,
            stdout=stdout_fd,
            stderr=stderr_fd,
            pass_fds=(result_fd,),
            start_new_session=True,
            preexec_fn=_die_with(os.getpid()),
        )
        self.procs[proc.pid] = proc
        self.pidfds[os.pidfd_open(proc.pid)] = proc.pid
        return proc.pid

    def event_fds(self) -> list[int]:
        return list(self.pidfds)

    def reap(self, fd: int) -> list[tuple[int, int]]:
        pid = self.pidfds.pop(fd, None)
        if pid is None:
            return []
        os.close(fd)
        proc = self.procs.pop(pid)
        return [(pid, proc.wait())]

    def kill(self, pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    def close(self) -> None:
        for fd in list(self.pidfds):
            os.close(fd)
        self.pidfds.clear()


def _die_with(parent: int) -> Callable[[], None]:
    def preexec() -> None:
        die_with_parent(parent)

    return preexec
