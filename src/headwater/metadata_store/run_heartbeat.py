"""Run leases kept alive by a heartbeat: how the PostgreSQL store and the metadata service tell
a run whose runtime is at work from one whose runtime died (the SQLite store uses file locks
instead, see run_leases).

A process that creates a run with ``held=True`` gets a lease of ``lease_s`` seconds on it
(HEADWATER_RUN_LEASE_S, default 60) and renews it every third of that from a daemon thread,
until it records the run's final status. Readers find a RUNNING run whose lease expired
INTERRUPTED, with its unfinished tasks and attempts FAILED. The thread starts with the first
held run and only in the process that created it: a forked child neither renews its parent's
leases nor inherits the thread.
"""

from __future__ import annotations

import os
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

DEFAULT_LEASE_S = 60.0
MIN_LEASE_S = 0.5
MAX_LEASE_S = 3600.0


def lease_seconds() -> float:
    """The lease length a held run gets: HEADWATER_RUN_LEASE_S (seconds), default 60."""
    raw = os.environ.get("HEADWATER_RUN_LEASE_S", "")
    try:
        value = float(raw) if raw else DEFAULT_LEASE_S
    except ValueError:
        value = DEFAULT_LEASE_S
    return clamp_lease(value)


def clamp_lease(value: float) -> float:
    return min(max(float(value), MIN_LEASE_S), MAX_LEASE_S)


class Heartbeat:
    """Renews the leases of the runs this process holds, by calling ``renew(flow, run_id)``
    (which should not raise: a failed renewal is tried again at the next beat)."""

    def __init__(self, renew: Callable[[str, str], object]) -> None:
        self._renew = renew
        self._runs: dict[tuple[str, str], float] = {}  # (flow, run_id) -> lease_s
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def _own(self) -> None:
        if self._pid != os.getpid():  # a forked child: nothing of the parent's is held
            self._pid = os.getpid()
            self._runs = {}
            self._lock = threading.Lock()
            self._wake = threading.Event()
            self._thread = None

    def hold(self, flow: str, run_id: str, lease_s: float) -> None:
        self._own()
        with self._lock:
            self._runs[(flow, run_id)] = lease_s
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._beat, name="headwater-run-heartbeat", daemon=True
                )
                self._thread.start()
        self._wake.set()  # the interval may have become shorter

    def release(self, flow: str, run_id: str) -> None:
        self._own()
        with self._lock:
            self._runs.pop((flow, run_id), None)

    def held(self) -> list[tuple[str, str]]:
        self._own()
        with self._lock:
            return list(self._runs)

    def stop(self) -> None:
        """Forget every held run and end the thread."""
        self._own()
        with self._lock:
            self._runs.clear()
        self._wake.set()

    def _beat(self) -> None:
        while True:
            with self._lock:
                runs = dict(self._runs)
            if not runs:
                with self._lock:
                    if not self._runs:
                        self._thread = None
                        return
                continue
            self._wake.wait(min(runs.values()) / 3.0)
            self._wake.clear()
            with self._lock:
                runs = dict(self._runs)
            for flow, run_id in runs:
                try:
                    self._renew(flow, run_id)
                except Exception:  # noqa: S112 - the next beat tries again
                    continue
