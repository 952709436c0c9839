"""The fork executor: a zygote process forked before any run state exists forks each task.

Protocol on a SOCK_SEQPACKET socket pair:
  runtime -> zygote: one message per launch, ``<handle> <encoded TaskSpec>``, with three fds
                     attached (the task's stdout, stderr and result pipe write ends);
  zygote -> runtime: ``S<handle> <pid>`` once the task is forked, ``X<handle> <exit code>``
                     when it exits.
Launches do not wait for the fork: the runtime goes on while the zygote works, and learns
the pid (needed only to signal the task) from the ``S`` message.
When the runtime goes away (the socket closes) the zygote kills what it started and exits.
"""

from __future__ import annotations

import _socket  # the C module: `socket` adds ~2 ms of enum set-up to every run
import array
import contextlib
import gc
import os
import select
import sys

from headwater.runtime.lifeline import die_with_parent
from headwater.runtime.spec import SpillDir, TaskSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import signal as _signal  # the same functions, typed (typeshed has no stub for _signal)
    from typing import Any
else:  # the C module: each `signal.signal` call converts handlers to enums (~0.15 ms a fork)
    import _signal

_MAX_MSG = 1 << 17


class ForkExecutor:
    """Runs each task attempt as a fork of a zygote holding the imported flow module."""

    @classmethod
    def from_context(cls, ctx: Any) -> ForkExecutor:
        return cls(ctx.flow_cls, ctx.graph, ctx.spill_dir)

    def __init__(self, flow_cls: type, graph: Any, spill_dir: SpillDir) -> None:
        self.flow_cls = flow_cls
        self.graph = graph
        self.spill_dir = spill_dir
        self.sock: Any = None  # an AF_UNIX SOCK_SEQPACKET _socket.socket
        self.zygote_pid: int | None = None
        self._next_handle = 1
        self.pids: dict[int, int] = {}  # handle -> pid, once forked
        self._pending_kills: dict[int, int] = {}  # handle -> signal asked before the fork

    def start(self) -> None:
        parent, child = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
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
            except BaseException:  # noqa: BLE001 - a bug in headwater: say what it was
                import traceback

                sys.stderr.write("headwater: the task zygote crashed:\n" + traceback.format_exc())
            finally:
                os._exit(code)
        child.close()
        self.sock = parent
        self.zygote_pid = pid

    def launch(self, spec: TaskSpec, stdout_fd: int, stderr_fd: int, result_fd: int) -> int:
        assert self.sock is not None
        handle = self._next_handle
        self._next_handle += 1
        payload = b"%d " % handle + spec.encode(self.spill_dir)
        _send_fds(self.sock, payload, [stdout_fd, stderr_fd, result_fd])
        return handle

    def event_fds(self) -> list[int]:
        return [self.sock.fileno()] if self.sock is not None else []

    def reap(self, fd: int) -> list[tuple[int, int]]:
        assert self.sock is not None
        out: list[tuple[int, int]] = []
        while True:
            try:
                msg = self.sock.recv(_MAX_MSG, _socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            if not msg:
                raise RuntimeError("the zygote process died; the run cannot go on")
            kind = msg[:1]
            handle_s, _, rest = msg[1:].decode().partition(" ")
            handle = int(handle_s)
            if kind == b"S":
                self.pids[handle] = int(rest)
                sig = self._pending_kills.pop(handle, None)
                if sig is not None:
                    self.kill(handle, sig)
            elif kind == b"X":
                self.pids.pop(handle, None)
                out.append((handle, int(rest)))
            elif kind == b"E":
                out.append((handle, -1 if not rest else 255))
        return out

    def kill(self, handle: int, sig: int) -> None:
        pid = self.pids.get(handle)
        if pid is None:
            self._pending_kills[handle] = sig
            return
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


def _zygote_main(sock: Any, flow_cls: type, graph: Any) -> int:
    # Import everything a task needs once, so each fork starts warm.
    from headwater.runtime import task as task_module

    task_module.warm_up(graph)
    # Move everything that exists now out of the collector's reach: a forked task's GC then
    # never walks (and so never copies) the zygote's pages.
    gc.collect()
    gc.freeze()
    # One piece at a time while the zygote waits for its first launch (which waits for at
    # most the piece under way); what is left then is done right after that first fork, once,
    # so later tasks (a foreach's thousand) all start warm.
    more_warm_up = list(task_module.MORE_WARM_UP)

    # Set once here rather than in every task: tasks write to pipes, line by line.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # a replaced stream may lack it
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(line_buffering=True)
    devnull = os.open(os.devnull, os.O_RDONLY)  # each task's stdin
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # Ctrl-C is the runtime's to handle
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    _signal.set_wakeup_fd(wake_w)
    _signal.signal(_signal.SIGCHLD, lambda *_: None)
    children: dict[int, bytes] = {}  # pid -> the runtime's handle
    sock_fd = sock.fileno()
    poller = select.poll()  # no fd of its own, so a forked task has nothing to close
    poller.register(sock_fd, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    running = True
    while running:
        events = poller.poll(0 if more_warm_up else None)
        if not events and more_warm_up:
            more_warm_up.pop(0)()
            if not more_warm_up:
                gc.freeze()  # what the pieces made is shared by later forks too
            continue
        for ready, _ in events:
            if ready == wake_r:
                with contextlib.suppress(BlockingIOError):
                    while os.read(wake_r, 4096):
                        pass
                _reap(sock, children)
                continue
            try:
                msg, fds = _recv_fds(sock, _MAX_MSG, 3)
            except ConnectionResetError:
                msg, fds = b"", []
            if not msg:
                running = False
                break
            handle, _, msg = msg.partition(b" ")
            zygote_pid = os.getpid()
            try:
                pid = os.fork()
            except OSError:
                for fd in fds:
                    os.close(fd)
                sock.send(b"E" + handle + b" fork failed")
                continue
            if pid == 0:
                code = 1
                try:
                    sock.close()
                    _signal.set_wakeup_fd(-1)
                    os.close(wake_r)
                    os.close(wake_w)
                    _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
                    _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
                    die_with_parent(zygote_pid)
                    code = _task_child(msg, fds, devnull, flow_cls, graph, task_module)
                finally:
                    os._exit(code)
            children[pid] = handle
            for fd in fds:
                os.close(fd)
            sock.send(b"S" + handle + b" %d" % pid)
            if more_warm_up:
                for piece in more_warm_up:
                    piece()
                more_warm_up.clear()
                gc.freeze()
        _reap(sock, children)
    # The runtime is gone: stop what is still running rather than leave orphans.
    for pid in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, _signal.SIGKILL)
    return 0


def _send_fds(sock: Any, payload: bytes, fds: list[int]) -> None:
    """One message with ``fds`` attached (what socket.send_fds does)."""
    rights = array.array("i", fds)
    sock.sendmsg([payload], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])


def _recv_fds(sock: Any, bufsize: int, maxfds: int) -> tuple[bytes, list[int]]:
    """One message and the fds attached to it (what socket.recv_fds does)."""
    fds = array.array("i")
    msg, ancdata, _flags, _addr = sock.recvmsg(bufsize, _socket.CMSG_LEN(maxfds * fds.itemsize))
    for level, kind, data in ancdata:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


def _reap(sock: Any, children: dict[int, bytes]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        handle = children.pop(pid, None)
        if handle is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            sock.send(b"X" + handle + b" %d" % code)


def _task_child(
    msg: bytes, fds: list[int], devnull: int, flow_cls: type, graph: Any, task_module: Any
) -> int:
    os.setsid()
    out_fd, err_fd, result_fd = fds
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    os.dup2(devnull, 0)
    os.close(out_fd)
    os.close(err_fd)
    os.close(devnull)
    spec = TaskSpec.decode(msg)
    return task_module.run_attempt(spec, flow_cls, graph, result_fd)
