"""The interface between the runtime and whatever starts task processes."""

from __future__ import annotations

from headwater.runtime.spec import TaskSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Protocol
else:  # interfaces only: at run time a plain base, and typing is never imported
    Protocol = object


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
