"""The interface between the runtime and whatever starts task processes.

Executors are plugins found by name (headwater.registry, group ``executors``): ``fork`` (the
default), ``subprocess``, and whatever an installed package registers (``ray``,
``kubernetes``). Each is made with ``from_context(ExecutorContext)``. A step decorator may ask
for an executor for its step (``StepDecorator.executor_name``); the runtime then routes each
task to its step's executor (runtime/step_router.py).

A remote executor implements the same protocol: it starts the task's ``step --spec`` command
elsewhere, feeds the task's stdout, stderr and result to the given fds as they become
available (from the datastore, where the task writes them), and signals its event fd when
the task ends. Such an executor also answers ``supervised_remotely(handle) -> True``: the task
runs under :func:`headwater.runtime.supervise.supervise` there, which saves its logs and
enforces its @timeout (counted from when it really starts), so the runtime only shows its
output and records its outcome (see runtime/remote_executor.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from headwater.record import EMPTY_MAPPING, Record
from headwater.runtime.spec import SpillDir, TaskSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Protocol
else:  # interfaces only: at run time a plain base, and typing is never imported
    Protocol = object


class ExecutorContext(Record):
    """What an executor is made from."""

    flow_cls: type
    graph: Any
    script: str  # the flow file, for executors that start ``python flow.py step``
    spill_dir: SpillDir
    settings: Any = None  # headwater.settings.Settings of the run
    options: Mapping[str, Any] = EMPTY_MAPPING  # executor options from the command line


class Executor(Protocol):
    """Starts task attempts and tells the runtime when their processes exit.

    ``launch`` returns a handle (an int unique within the run) by which the executor reports the
    attempt's exit and accepts signals for it. Exit codes follow ``subprocess``: ``>= 0`` is an
    exit status, ``-N`` means killed by signal N. Every task runs in a process group of its
    own, so ``kill`` reaches its children.
    """

    def start(self) -> None: ...

    def launch(self, spec: TaskSpec, stdout_fd: int, stderr_fd: int, result_fd: int) -> int:
        """Start the attempt with the given fds as its stdout, stderr and result pipe;
        returns its handle. The caller closes its copies of the three fds afterwards."""
        ...

    def event_fds(self) -> list[int]:
        """Fds the runtime waits on; when one is readable it calls ``reap(fd)``."""
        ...

    def reap(self, fd: int) -> list[tuple[int, int]]:
        """(handle, exit code) of attempts whose processes have exited."""
        ...

    def kill(self, handle: int, sig: int) -> None:
        """Send ``sig`` to the attempt's whole process group."""
        ...

    def close(self) -> None: ...

    # Optional: ``supervised_remotely(handle) -> bool`` (see the module's docstring); an
    # executor without it runs every attempt under the runtime's own supervision.
