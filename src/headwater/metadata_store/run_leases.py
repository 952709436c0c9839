"""Run leases: how a reader tells a run whose runtime is still at work from one whose runtime
was killed (SIGKILL, the OOM killer, a crash, a reboot) before it could record how it ended.

The process running a run holds an exclusive ``flock`` on ``<db dir>/.running/<flow>/<run_id>``
from the moment the run is created until it records a final status; it then deletes the file.
The kernel drops the lock when the process dies, however it dies. So for a run whose status
says RUNNING:
  - no lease file: nothing to tell (a run created without a lease): it stays RUNNING;
  - a lease file someone holds: the runtime is alive;
  - a lease file nobody holds: the runtime is gone, and the run was interrupted.

The lock is taken on a temp file that is then renamed into place, so a reader never finds a
lease file that is not locked yet. Forked children share the lock; the runtime's only forked
child (the task zygote) is forked before any run exists, so it never holds one. Where there is
no ``fcntl`` (Windows) runs are never leased and nothing changes.
"""

from __future__ import annotations

import os

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LEASE_DIR = ".running"  # a dot name: flow names are identifiers, so no flow directory clashes


class RunLeases:
    """The leases of the runs of one metadata database (at ``db_path``)."""

    def __init__(self, db_path: str) -> None:
        self.dir = os.path.join(os.path.dirname(os.path.abspath(db_path)), LEASE_DIR)
        self._held: dict[tuple[str, str], int] = {}  # (flow, run_id) -> open, locked fd

    def _path(self, flow: str, run_id: str) -> str:
        return os.path.join(self.dir, flow, run_id)

    def hold(self, flow: str, run_id: str) -> None:
        """Take the lease of a run this process is about to run. Raises OSError."""
        if fcntl is None:  # pragma: no cover - Windows
            return
        target = self._path(flow, run_id)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = f"{target}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, b"%d\n" % os.getpid())
            os.replace(tmp, target)
        except BaseException:
            os.close(fd)
            _unlink(tmp)
            raise
        self._held[(flow, run_id)] = fd

    def release(self, flow: str, run_id: str) -> None:
        """Drop the lease of a run that has recorded its final status (no-op if not held)."""
        fd = self._held.pop((flow, run_id), None)
        if fd is None:
            return
        _unlink(self._path(flow, run_id))
        os.close(fd)

    def abandoned(self, flow: str, run_id: str) -> bool:
        """True when the run has a lease file and no process holds it: its runtime is gone."""
        if fcntl is None or (flow, run_id) in self._held:
            return False
        try:
            fd = os.open(self._path(flow, run_id), os.O_RDONLY)
        except OSError:
            return False  # no lease: nothing to tell
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return False  # held: the runtime is alive
        finally:
            os.close(fd)
        return True

    def forget(self, flow: str, run_id: str) -> None:
        """Remove the lease file of an abandoned run once its records say how it ended."""
        _unlink(self._path(flow, run_id))


def _unlink(path: str) -> None:
    try:  # noqa: SIM105 - contextlib is not imported on the client's path
        os.unlink(path)
    except OSError:
        pass
