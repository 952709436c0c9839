"""A small process that runs a Ray worker's tasks of one run, each as a cheap fork.

A Ray worker process is big (Ray's core, its threads, the object store mapped in), and
forking it costs milliseconds more per task than forking a small process. So the first time a
worker gets a task of a run it starts this process (a new interpreter, tied to the worker's
life), which imports the run's flow from its code package once and warms up; every task of
the run that the worker gets is then handed to it over a socket, and runs there under
:func:`headwater.runtime.supervise.supervise` (forked, logged to the datastore, @timeout
enforced, its result written next to its artifacts).

Protocol (SOCK_SEQPACKET, one request at a time): worker -> zygote: JSON ``{"spec",
"timeout_s"}``; zygote -> worker: ``X<exit code>`` when the task has ended (0: it succeeded).
The zygote's first message is ``R`` once the flow is imported, or ``E<error line>`` when it
cannot be.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.runtime.spec import TaskSpec

_MAX = 1 << 20


class ZygoteDied(Exception):
    """The zygote process died while it ran a task (the task's own process was killed with
    it)."""


class FlowImportFailed(Exception):
    """The zygote could not import the run's flow; the message is its error line."""


class TaskZygote:
    """The worker's side: starts the zygote for the run of ``spec`` and runs tasks there."""

    def __init__(self, spec: TaskSpec) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "headwater.plugins.ray_cluster.task_zygote",
             str(theirs.fileno()), str(os.getpid())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        theirs.close()
        self.sock = ours
        first = {"datastore": spec.datastore, "root": spec.root, "flow": spec.flow}
        first["params"] = spec.params
        ours.send(json.dumps(first).encode())
        answer = ours.recv(_MAX)
        if answer[:1] != b"R":
            self.close()
            raise FlowImportFailed(answer[1:].decode(errors="replace") or "the zygote exited")

    def run(self, spec_json: str, timeout_s: float | None) -> int:
        """Run one task attempt; its exit code (0: it succeeded)."""
        try:
            self.sock.send(json.dumps({"spec": spec_json, "timeout_s": timeout_s}).encode())
            answer = self.sock.recv(_MAX)
        except OSError:
            answer = b""
        if answer[:1] != b"X":
            self.close()
            raise ZygoteDied("the process that ran the task on the Ray worker died")
        return int(answer[1:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        self.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def main(fd: int, worker_pid: int) -> int:
    from headwater.runtime.lifeline import die_with_parent

    die_with_parent(worker_pid)  # the worker killed (a cancelled task): so are we, and our task
    sock = socket.socket(fileno=fd)
    first = json.loads(sock.recv(_MAX))
    try:
        flow, ds = _import(first)
    except Exception as e:  # noqa: BLE001 - the worker reports it as the task's failure
        text = str(e).strip().splitlines()
        sock.send(b"E" + (f"{type(e).__name__}: {text[0]}" if text else type(e).__name__).encode())
        return 1
    sock.send(b"R")
    from headwater.runtime.package_import import as_main
    from headwater.runtime.spec import TaskSpec
    from headwater.runtime.supervise import supervise

    with as_main(flow.module):
        while True:
            msg = sock.recv(_MAX)
            if not msg:
                return 0  # the worker is gone
            request = json.loads(msg)
            spec = TaskSpec.from_json(request["spec"])
            result = supervise(
                spec, flow.flow_cls, flow.graph, ds, echo=False, timeout_s=request["timeout_s"]
            )
            sock.send(b"X%d" % (0 if result.ok else 1))


def _import(first: dict) -> tuple:
    import gc

    from headwater.runtime import task as task_module
    from headwater.runtime.package_import import import_run_flow
    from headwater.stores import open_datastore

    ds = open_datastore(first["datastore"], first["root"])
    flow = import_run_flow(ds, first["flow"], first["params"])
    # What the fork executor's zygote does before its first fork: import and prepare what
    # every task needs, then keep it out of the garbage collector's way in the forks.
    task_module.warm_up(flow.graph)
    for piece in task_module.MORE_WARM_UP:
        piece()
    gc.collect()
    gc.freeze()
    return flow, ds


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
