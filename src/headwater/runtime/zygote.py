"""The fork executor: a zygote process forked before any run state exists forks each task.

Protocol on a SOCK_SEQPACKET socket pair:
  runtime -> zygote: one message per launch, the encoded TaskSpec, with three fds attached
                     (the task's stdout, stderr and result pipe write ends);
  zygote -> runtime: ``S<pid>`` once the task is forked, ``X<pid> <exit code>`` when it exits.
When the runtime goes away (the socket closes) the zygote kills what it started and exits.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import sys
from typing import Any

from headwater.runtime.lifeline import die_with_parent
from headwater.runtime.spec import TaskSpec

_MAX_MSG = 1 << 17


class ForkExecutor:
    """Runs each task attempt as a fork of a zygote holding the imported flow module."""

    def __init__(self, flow_cls: type, graph: Any, spill_dir: str) -> None:
        self.flow_cls = flow_cls
        self.graph = graph
        self.spill_dir = spill_dir
        self.sock: socket.socket | None = None
        self.zygote_pid: int | None = None
        self._exited: list[tuple[int, int]] = []

    def start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        runtime_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # the zygote
            code = 1
            try:
                die_with_parent(runtime_pid)
                parent.close()
                code = _zygote_main(child, self.flow_cls, self.graph)
            finally:
                os._exit(code)
        child.close()
        self.sock = parent
        self.zygote_pid = pid

    def launch(self, spec: TaskSpec, stdout_fd: int, stderr_fd: int, result_fd: int) -> int:
        assert self.sock is not None
        payload = spec.encode(self.spill_dir)
        socket.send_fds(self.sock, [payload], [stdout_fd, stderr_fd, result_fd])
        while True:
            msg = self.sock.recv(_MAX_MSG)
            if not msg:
                raise RuntimeError("the zygote process died; the run cannot start tasks")
            kind, body = msg[:1], msg[1:].decode()
            if kind == b"S":
                return int(body)
            if kind == b"X":
                pid, code = body.split()
                self._exited.append((int(pid), int(code)))
            elif kind == b"E":
                raise RuntimeError(f"the zygote could not start a task: {body}")

    def event_fds(self) -> list[int]:
        return [self.sock.fileno()] if self.sock is not None else []

    def pending(self) -> list[tuple[int, int]]:
        """Exits that arrived while waiting for a launch reply."""
        out, self._exited = self._exited, []
        return out

    def reap(self, fd: int) -> list[tuple[int, int]]:
        assert self.sock is not None
        out = self.pending()
        self.sock.setblocking(False)
        try:
            while True:
                try:
                    msg = self.sock.recv(_MAX_MSG)
                except BlockingIOError:
                    break
                if not msg:
                    break
                if msg[:1] == b"X":
                    pid, code = msg[1:].decode().split()
                    out.append((int(pid), int(code)))
        finally:
            self.sock.setblocking(True)
        return out

    def kill(self, pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.zygote_pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.zygote_pid, 0)
            self.zygote_pid = None


def _zygote_main(sock: socket.socket, flow_cls: type, graph: Any) -> int:
    # Import everything a task needs once, so each fork starts warm.
    from headwater.runtime import task as task_module

    task_module.warm_up(graph)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runtime's to handle
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, "sock")
    sel.register(wake_r, selectors.EVENT_READ, "wake")
    running = True
    while running:
        for key, _ in sel.select():
            if key.data == "wake":
                with contextlib.suppress(BlockingIOError):
                    while os.read(wake_r, 4096):
                        pass
                _reap(sock, children)
                continue
            try:
                msg, fds, _flags, _addr = socket.recv_fds(sock, _MAX_MSG, 3)
            except ConnectionResetError:
                msg, fds = b"", []
            if not msg:
                running = False
                break
            zygote_pid = os.getpid()
            try:
                pid = os.fork()
            except OSError as ex:
                for fd in fds:
                    os.close(fd)
                sock.send(b"E" + str(ex).encode())
                continue
            if pid == 0:
                code = 1
                try:
                    sel.close()
                    sock.close()
                    signal.set_wakeup_fd(-1)
                    os.close(wake_r)
                    os.close(wake_w)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    die_with_parent(zygote_pid)
                    code = _task_child(msg, fds, flow_cls, graph, task_module)
                finally:
                    os._exit(code)
            children.add(pid)
            for fd in fds:
                os.close(fd)
            sock.send(b"S%d" % pid)
        _reap(sock, children)
    # The runtime is gone: stop what is still running rather than leave orphans.
    for pid in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    return 0


def _reap(sock: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            sock.send(b"X%d %d" % (pid, code))


def _task_child(msg: bytes, fds: list[int], flow_cls: type, graph: Any, task_module: Any) -> int:
    os.setsid()
    out_fd, err_fd, result_fd = fds
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    os.close(out_fd)
    os.close(err_fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.reconfigure(line_buffering=True)
    spec = TaskSpec.decode(msg)
    return task_module.run_attempt(spec, flow_cls, graph, result_fd)
