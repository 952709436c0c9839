"""The driver process of a remote executor: it hands tasks to a backend (a Ray cluster,
Kubernetes) and feeds their logs and results back to the runtime's pipes.

Started by :class:`headwater.runtime.remote_executor.RemoteExecutor` as
``python -m headwater.runtime.remote_driver`` (the socket's fd in ``HEADWATER_DRIVER_FD``; the
protocol is described there). One loop, waiting on the runtime's socket and the backend's
wake-ups: a launch goes to ``backend.submit``; while a task runs, what it has logged so far is
read from the datastore (where the task's supervisor writes it, flushed every few seconds) and
copied to its stdout/stderr pipes; when the backend reports it finished, the rest of its logs
and its TaskResult (from the datastore, or the backend's reason when the task could not report
one: a pod OOMKilled, a worker lost) are written and the runtime is told.

A backend implements :class:`Backend`; its own threads (a watch, Ray's callbacks) queue what
finished and call ``wake``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping

from headwater.record import Record
from headwater.runtime.remote_executor import DRIVER_FD_VARIABLE, MAX_MESSAGE
from headwater.runtime.spec import TaskResult, TaskSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Protocol

    from headwater.datastore.store import Datastore
else:  # interfaces only: at run time a plain base, and typing is never imported
    Protocol = object

LOG_POLL_S = 2.0  # how often the logs of running tasks are read from the datastore
_STREAMS = ("stdout", "stderr")


class Outcome(Record):
    """How a task ended, as far as the backend knows."""

    failure: str | None = None  # one line, when the backend knows why the task failed
    retryable: bool = True
    overrides_result: bool = False  # the failure wins over a result the task stored (OOMKilled)
    detail: str = ""  # more text for the task's stderr (the end of a pod's own log)


class Backend(Protocol):
    """What a driver needs from a cluster. ``submit``, ``cancel`` and ``close`` are called
    from the driver's loop; ``finished`` drains what ended (callbacks or watch threads queue
    it, then call ``wake``)."""

    def start(self, wake: Callable[[], None]) -> None: ...

    def submit(self, handle: int, spec: TaskSpec, options: Mapping[str, Any]) -> None: ...

    def cancel(self, handle: int, sig: int) -> None:
        """Stop the task; it is reported through ``finished`` (or never, once the driver has
        reported it to the runtime)."""
        ...

    def finished(self) -> list[tuple[int, Outcome]]: ...

    def close(self) -> None:
        """Stop every task still running and release what the backend made."""
        ...


class BackendError(Exception):
    """The backend cannot take the task; the message is the task's one-line failure."""

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class _Task:
    __slots__ = ("handle", "spec", "path", "fds", "offsets", "started", "next_poll")

    def __init__(self, handle: int, spec: TaskSpec, fds: list[int]) -> None:
        self.handle = handle
        self.spec = spec
        self.path = spec.path
        self.fds = dict(zip((*_STREAMS, "result"), fds, strict=True))
        self.offsets = dict.fromkeys(_STREAMS, 0)
        self.started = time.monotonic()
        self.next_poll = self.started + LOG_POLL_S


class Driver:
    def __init__(self, sock: socket.socket, backend: Backend, name: str) -> None:
        self.sock = sock
        self.backend = backend
        self.name = name
        self.tasks: dict[int, _Task] = {}
        self._datastores: dict[tuple[str, str], Datastore] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.broken: BackendError | None = None  # the backend could not start

    def wake(self) -> None:
        """Called from any thread: the loop looks at ``backend.finished()`` again."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"\0")

    def run(self) -> None:
        try:
            self.backend.start(self.wake)
        except BackendError as e:
            self.broken = e
        except Exception as e:  # noqa: BLE001 - every task then fails with this line
            self.broken = BackendError(f"{self.name} executor could not start: {_headline(e)}")
        poller = select.poll()
        poller.register(self.sock.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        try:
            while True:
                wait = None
                if self.tasks:
                    due = min(t.next_poll for t in self.tasks.values())
                    wait = max(0, int((due - time.monotonic()) * 1000) + 1)
                events = poller.poll(wait)
                for fd, _ in events:
                    if fd == self._wake_r:
                        with contextlib.suppress(BlockingIOError):
                            while os.read(self._wake_r, 4096):
                                pass
                    elif not self._receive():
                        return
                for handle, outcome in self.backend.finished():
                    self._finish(handle, outcome)
                self._relay_logs()
        finally:
            self.backend.close()
            for task in self.tasks.values():
                _close_all(task)

    # --- messages from the runtime ------------------------------------------------------------
    def _receive(self) -> bool:
        """Handle what the runtime sent; False once it closed the socket."""
        while True:
            try:
                msg, fds = _recv_fds(self.sock, 3)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not msg:
                return False
            kind = msg[:1]
            if kind == b"L":
                self._launch(json.loads(msg[1:]), fds)
            elif kind == b"K":
                handle_s, _, sig_s = msg[1:].decode().partition(" ")
                self._kill(int(handle_s), int(sig_s))

    def _launch(self, message: dict[str, Any], fds: list[int]) -> None:
        handle = int(message["handle"])
        spec = TaskSpec.decode(message["spec"].encode())
        task = _Task(handle, spec, fds)
        self.tasks[handle] = task
        if self.broken is not None:
            self._finish(handle, Outcome(str(self.broken), retryable=self.broken.retryable))
            return
        try:
            self.backend.submit(handle, spec, message.get("options") or {})
        except BackendError as e:
            self._finish(handle, Outcome(str(e), retryable=e.retryable))
        except Exception as e:  # noqa: BLE001 - a cluster's client failed: the task fails
            self._finish(handle, Outcome(f"{self.name} executor: {_headline(e)}"))

    def _kill(self, handle: int, sig: int) -> None:
        task = self.tasks.get(handle)
        if task is None:
            return
        with contextlib.suppress(Exception):
            self.backend.cancel(handle, sig)
        if sig == signal.SIGKILL:  # the runtime stops waiting for it: report it now
            self.tasks.pop(handle)
            self._relay_logs_of(task, final=True)
            _close_all(task)
            self._exited(handle, -sig)

    # --- output -------------------------------------------------------------------------------
    def _datastore(self, spec: TaskSpec) -> Datastore:
        key = (spec.datastore, spec.root)
        ds = self._datastores.get(key)
        if ds is None:
            from headwater.stores import open_datastore

            ds = self._datastores[key] = open_datastore(spec.datastore, spec.root)
        return ds

    def _relay_logs(self) -> None:
        now = time.monotonic()
        for task in self.tasks.values():
            if task.next_poll <= now:
                self._relay_logs_of(task)
                task.next_poll = time.monotonic() + LOG_POLL_S

    def _relay_logs_of(self, task: _Task, final: bool = False) -> None:
        """Copy what the task logged since the last look to its pipes."""
        try:
            ds = self._datastore(task.spec)
            for stream in _STREAMS:
                size = ds.log_size(task.path, stream)
                if size > task.offsets[stream]:
                    data = ds.read_log_range(
                        task.path, stream, task.offsets[stream], size - task.offsets[stream]
                    )
                    task.offsets[stream] += len(data)
                    _write(task.fds[stream], data)
        except Exception as e:  # noqa: BLE001 - a log read failing must not lose the task
            if final:
                _write(task.fds["stderr"], f"(headwater: could not read the logs: {e})\n".encode())

    def _finish(self, handle: int, outcome: Outcome) -> None:
        task = self.tasks.pop(handle, None)
        if task is None:
            return  # reported already (killed)
        self._relay_logs_of(task, final=True)
        reported: bytes | None = None
        if not (outcome.failure and outcome.overrides_result):
            try:
                reported = self._datastore(task.spec).read_result(task.path)
            except Exception:  # noqa: BLE001 - then the outcome says what happened
                reported = None
        if reported is None:
            why = outcome.failure or (
                "TaskDied: the task ended without reporting a result (see its log)"
            )
            result = TaskResult(
                ok=False,
                exception=why,
                retryable=outcome.retryable,
                wall_s=time.monotonic() - task.started,
            )
            reported = result.to_bytes()
            if outcome.detail:
                _write(task.fds["stderr"], outcome.detail.encode())
        ok = _reports_success(reported)
        _write(task.fds["result"], reported)
        _close_all(task)
        self._exited(handle, 0 if ok else 1)

    def _exited(self, handle: int, code: int) -> None:
        with contextlib.suppress(OSError):
            self.sock.send(b"X%d %d" % (handle, code))


def _recv_fds(sock: socket.socket, maxfds: int) -> tuple[bytes, list[int]]:
    """One message and the fds attached to it, without waiting (socket.recv_fds ignores its
    flags before Python 3.12)."""
    import array

    fds = array.array("i")
    msg, ancdata, _flags, _addr = sock.recvmsg(
        MAX_MESSAGE, socket.CMSG_LEN(maxfds * fds.itemsize), socket.MSG_DONTWAIT
    )
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


def _reports_success(data: bytes) -> bool:
    try:
        return TaskResult.from_bytes(data).ok
    except (ValueError, TypeError):
        return False


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    with contextlib.suppress(OSError):
        while view:
            n = os.write(fd, view)
            view = view[n:]


def _close_all(task: _Task) -> None:
    for fd in task.fds.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    task.fds = {}


def _headline(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def load_backend(spec: str, config: Mapping[str, Any]) -> Backend:
    import importlib

    module_name, _, attr = spec.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    return cls(config)


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runtime tells us what to stop
    sock = socket.socket(fileno=int(os.environ.pop(DRIVER_FD_VARIABLE)))
    first = json.loads(sock.recv(MAX_MESSAGE))
    name = first.get("name", "remote")
    try:
        backend = load_backend(first["backend"], first.get("config") or {})
    except Exception as e:  # noqa: BLE001 - every task then fails with this line
        sys.stderr.write(f"headwater: the {name} executor could not start: {_headline(e)}\n")
        return 1
    Driver(sock, backend, name).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
