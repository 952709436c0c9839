"""Executors that run tasks elsewhere (a Ray cluster, Kubernetes): the runtime's half.

A remote executor is two halves. This one lives in the runtime and speaks the Executor
protocol; the other, a *driver* process (:mod:`headwater.runtime.remote_driver`), talks to the
cluster. Keeping the cluster's client (its threads, its connections, its signal handlers) out
of the runtime keeps the runtime single-threaded and lets it fork a zygote at any time.

Protocol on a SOCK_SEQPACKET socket pair (one message each):
  runtime -> driver: the first message, JSON ``{"backend": "module:Class", "config": {...}}``;
                     then ``L`` + JSON ``{"handle", "spec", "options"}`` with three fds attached
                     (the task's stdout, stderr and result pipe write ends), and ``K<handle>
                     <signal>`` to stop a task;
  driver -> runtime: ``X<handle> <exit code>`` once the task's output and result are written
                     to its fds and the fds are closed.
Closing the socket ends the driver: it stops whatever is still running and exits.

The task runs under :func:`headwater.runtime.supervise.supervise` on the cluster, which saves
its logs to the datastore and enforces its @timeout; the driver copies the logs from there to
the task's stdout/stderr pipes while it runs, and its TaskResult to the result pipe when it
ends. A subclass says which backend the driver loads and what options each step sends it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping

from headwater.runtime.spec import TaskResult, TaskSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.runtime.executor import ExecutorContext

MAX_MESSAGE = 1 << 18
DRIVER_FD_VARIABLE = "HEADWATER_DRIVER_FD"
CLOSE_WAIT_S = 20.0  # how long close() waits for the driver to stop what is left


class RemoteExecutor:
    """Runs each task attempt through a backend in a driver process."""

    name = "remote"  # the executor's registered name, for messages
    backend = ""  # "module:Class" of the driver-side backend
    # How long close() waits for the driver to finish cleaning up (it goes on alone after).
    close_wait_s = CLOSE_WAIT_S

    def __init__(self, ctx: ExecutorContext, config: Mapping[str, Any] | None = None) -> None:
        self.ctx = ctx
        self.config = dict(config or {})
        self.sock: socket.socket | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._next_handle = 1
        self._results: dict[int, int] = {}  # handle -> our copy of its result pipe's write end
        self._options: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
        self._dead: list[int] = []  # handles failed because the driver is gone, to report
        self._wake: tuple[int, int] | None = None  # readable once the driver is gone

    # --- what a subclass says -------------------------------------------------------------------
    def step_options(self, step: str, decorators: list[Any]) -> dict[str, Any]:
        """JSON-safe options the backend gets with each task of ``step`` (resources...)."""
        return {}

    # --- the Executor protocol ------------------------------------------------------------------
    def start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ)
        env[DRIVER_FD_VARIABLE] = str(child.fileno())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "headwater.runtime.remote_driver"],
            stdin=subprocess.DEVNULL,
            pass_fds=(child.fileno(),),
            env=env,
            start_new_session=True,  # Ctrl-C is the runtime's to handle; it tells the driver
        )
        child.close()
        self.sock = parent
        first = {"backend": self.backend, "name": self.name, "config": self.config}
        parent.send(json.dumps(first).encode())

    def launch(self, spec: TaskSpec, stdout_fd: int, stderr_fd: int, result_fd: int) -> int:
        handle = self._next_handle
        self._next_handle += 1
        self._results[handle] = os.dup(result_fd)
        if self.sock is None:
            self._fail(handle, "its driver process is not running")
            return handle
        message = {
            "handle": handle,
            "spec": spec.encode(self.ctx.spill_dir).decode(),
            "options": self._options_of(spec),
        }
        payload = b"L" + json.dumps(message, separators=(",", ":")).encode()
        try:
            socket.send_fds(self.sock, [payload], [stdout_fd, stderr_fd, result_fd])
        except OSError:
            self._driver_gone()
        return handle

    def event_fds(self) -> list[int]:
        if self.sock is not None:
            return [self.sock.fileno()]
        return [self._wake[0]] if self._wake is not None and self._dead else []

    def reap(self, fd: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        while self.sock is not None:
            try:
                msg = self.sock.recv(MAX_MESSAGE, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError:
                msg = b""
            if not msg:
                self._driver_gone()
                break
            if msg[:1] == b"X":
                handle_s, _, code = msg[1:].decode().partition(" ")
                handle = int(handle_s)
                with contextlib.suppress(KeyError, OSError):
                    os.close(self._results.pop(handle))
                out.append((handle, int(code)))
        out += [(handle, 1) for handle in self._dead]
        self._dead.clear()
        return out

    def kill(self, handle: int, sig: int) -> None:
        if self.sock is not None and handle in self._results:
            with contextlib.suppress(OSError):
                self.sock.send(b"K%d %d" % (handle, sig))

    def supervised_remotely(self, handle: int) -> bool:
        return True

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            try:
                self.proc.wait(self.close_wait_s)
            except subprocess.TimeoutExpired:
                if self.close_wait_s >= CLOSE_WAIT_S:
                    self.proc.kill()
                    self.proc.wait()
                # else it finishes on its own (it has nothing of the run's left to report)
            self.proc = None
        for fd in self._results.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._results.clear()
        if self._wake is not None:
            for fd in self._wake:
                os.close(fd)
            self._wake = None

    # --- inside -----------------------------------------------------------------------------------
    def _options_of(self, spec: TaskSpec) -> dict[str, Any]:
        key = (spec.step, spec.decospecs)
        found = self._options.get(key)
        if found is None:
            from headwater.core.decorators import parse_decospec, step_decorators

            decorators = step_decorators(
                getattr(self.ctx.flow_cls, spec.step), [parse_decospec(d) for d in spec.decospecs]
            )
            timeouts = [t for t in (d.timeout_seconds() for d in decorators) if t]
            found = self.step_options(spec.step, decorators)
            found["timeout_s"] = timeouts[-1] if timeouts else None
            self._options[key] = found
        return found

    def _driver_gone(self) -> None:
        """The driver exited (it crashed, or could not start): every task it had fails."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        code = self.proc.poll() if self.proc is not None else None
        why = "its driver process stopped" + (f" (exit code {code})" if code is not None else "")
        for handle in list(self._results):
            self._fail(handle, why + ": see the messages above")

    def _fail(self, handle: int, why: str) -> None:
        fd = self._results.pop(handle, None)
        if fd is not None:
            result = TaskResult(ok=False, exception=f"{self.name} executor: {why}", retryable=False)
            with contextlib.suppress(OSError):
                os.write(fd, result.to_bytes())
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._wake is None:
            self._wake = os.pipe()
            os.write(self._wake[1], b"x")  # stays readable: reap() reports the failed tasks
        self._dead.append(handle)
