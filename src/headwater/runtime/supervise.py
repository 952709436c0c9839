"""Run one task attempt in a forked child and watch it, where no runtime is watching.

A task process started by a production scheduler, a Kubernetes pod or a Ray worker has no
runtime reading its pipes. It supervises itself: the step runs in a forked child (so a crash,
``sys.exit`` or segfault in user code is a failed attempt this process still reports); its
output goes to the datastore's logs (flushed every few seconds, so an object store shows a
running task's log) and to this process's own stdout/stderr (where the scheduler looks);
@timeout stops it; and the TaskResult is written into the datastore beside the attempt's index.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time

from headwater.runtime.lifeline import die_with_parent
from headwater.runtime.spec import TaskResult, TaskSpec, exit_result

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.storage import LogSink
    from headwater.datastore.store import Datastore

LOG_FLUSH_S = 3.0  # how often a log reaches the datastore while the task runs
_STREAMS = ("stdout", "stderr")


def supervise(
    spec: TaskSpec,
    flow_cls: type,
    graph: Any,
    ds: Datastore,
    echo: bool = True,
    timeout_s: float | None = None,
) -> TaskResult:
    """Run the attempt ``spec`` in a child process; returns its result, also stored in ``ds``."""
    from headwater.runtime.task import run_attempt

    pipes = {name: os.pipe() for name in (*_STREAMS, "result")}
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    parent = os.getpid()
    started = time.time()
    pid = os.fork()
    if pid == 0:  # the task
        code = 1
        try:
            os.setsid()
            die_with_parent(parent)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not a host's handler (a Ray worker's)
            for r, _ in pipes.values():
                os.close(r)
            for fd, name in ((1, "stdout"), (2, "stderr")):
                os.dup2(pipes[name][1], fd)
                os.close(pipes[name][1])
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.close(devnull)
            for stream in (sys.stdout, sys.stderr):
                reconfigure = getattr(stream, "reconfigure", None)  # a replaced stream may lack it
                if reconfigure is not None:
                    with contextlib.suppress(Exception):
                        reconfigure(line_buffering=True)
            code = run_attempt(spec, flow_cls, graph, pipes["result"][1])
        except BaseException:  # noqa: BLE001 - a bug in headwater: say what it was
            import traceback

            with contextlib.suppress(Exception):
                os.write(2, traceback.format_exc().encode())
        finally:
            os._exit(code)
    for _, w in pipes.values():
        os.close(w)
    watcher = _Watcher(spec, ds, echo, {pipes[n][0]: n for n in pipes})
    try:
        code, timed_out = watcher.wait(pid, started + timeout_s if timeout_s else None)
    finally:
        watcher.close_logs()
    result = exit_result(
        spec.step,
        bytes(watcher.result),
        code,
        time.time() - started,
        timed_out_after=timeout_s if timed_out else None,
    )
    ds.write_result(spec.path, result.to_bytes())
    return result


class _Watcher:
    """Copies the child's output to the logs (and to this process's own streams)."""

    def __init__(self, spec: TaskSpec, ds: Datastore, echo: bool, fds: dict[int, str]) -> None:
        self.spec = spec
        self.ds = ds
        self.echo = echo
        self.fds = fds
        self.result = bytearray()
        self.sinks: dict[str, LogSink | None] = {}
        self.last_flush = time.monotonic()

    def wait(self, pid: int, deadline: float | None) -> tuple[int, bool]:
        """Stream until the child exits; (exit code, whether it was stopped for timing out)."""
        pidfd = os.pidfd_open(pid)
        poller = select.poll()
        for fd in self.fds:
            os.set_blocking(fd, False)
            poller.register(fd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        timed_out = False
        try:
            while True:
                wait_ms = None
                if deadline is not None and not timed_out:
                    wait_ms = max(0, int((deadline - time.time()) * 1000))
                if self.sinks:
                    flush_ms = int((self.last_flush + LOG_FLUSH_S - time.monotonic()) * 1000)
                    wait_ms = max(0, flush_ms) if wait_ms is None else min(wait_ms, flush_ms)
                events = poller.poll(wait_ms)
                exited = False
                for fd, _ in events:
                    if fd == pidfd:
                        exited = True
                    elif not self._read(fd):
                        poller.unregister(fd)
                if deadline is not None and not timed_out and time.time() >= deadline:
                    timed_out = True
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pid, signal.SIGKILL)
                if time.monotonic() - self.last_flush >= LOG_FLUSH_S:
                    self._flush()
                if exited:
                    break
            # What the child wrote before it exited; a leftover grandchild may hold the pipes
            # open, so read what is there and do not wait for EOF.
            for fd in list(self.fds):
                self._read(fd)
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status), timed_out
        finally:
            os.close(pidfd)
            for fd in self.fds:
                os.close(fd)

    def _read(self, fd: int) -> bool:
        """Read what is available; False at EOF."""
        name = self.fds[fd]
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return True
            if not data:
                return False
            if name == "result":
                self.result += data
                continue
            if self.echo:
                with contextlib.suppress(OSError):
                    os.write(1 if name == "stdout" else 2, data)
            self._log(name, data)

    def _log(self, stream: str, data: bytes) -> None:
        if stream in self.sinks and self.sinks[stream] is None:
            return  # saving this log failed earlier: the task goes on
        try:
            sink = self.sinks.get(stream)
            if sink is None:
                sink = self.sinks[stream] = self.ds.open_log(self.spec.path, stream)
            sink.write(data)
        except Exception as ex:  # noqa: BLE001 - losing a log must not lose the task
            self.sinks[stream] = None
            with contextlib.suppress(OSError):
                os.write(2, f"headwater: could not save this task's {stream}: {ex}\n".encode())

    def _flush(self) -> None:
        self.last_flush = time.monotonic()
        for sink in self.sinks.values():
            if sink is not None:
                try:
                    sink.flush()
                except Exception:  # noqa: BLE001 - retried at the next flush and at close
                    continue

    def close_logs(self) -> None:
        for stream, sink in self.sinks.items():
            if sink is not None:
                try:
                    sink.close()
                except Exception as ex:  # noqa: BLE001
                    with contextlib.suppress(OSError):
                        os.write(
                            2, f"headwater: could not save this task's {stream}: {ex}\n".encode()
                        )
