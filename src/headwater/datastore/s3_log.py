"""Logs in an object store: written bytes are buffered, and the whole object is rewritten
when the log is flushed or closed, and by itself at most every ``FLUSH_EVERY`` seconds
while it is written to, so a running task's output can be followed from another machine.

``write`` never waits for the network (the runtime writes every task's output from one
thread): a background thread, one per process, does the timed flushes. Each rewrite is a
single PUT, so a reader sees one whole version of the log, never part of a write. Flushes
of one log are serialized, so an older version never lands after a newer one.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.datastore.s3_storage import S3Storage

FLUSH_EVERY = 3.0  # seconds a written byte may wait before it is readable
FLUSH_RATE = 16 << 20  # a big log waits longer: one more second per this many bytes


class S3LogSink:
    """A log object that grows by rewriting (see the module's docstring)."""

    def __init__(self, storage: S3Storage, key: str) -> None:
        self.storage = storage
        self.key = key
        self._buf = bytearray()
        self._dirty = False
        self._lock = threading.Lock()  # guards _buf and _dirty
        self._flushing = threading.Lock()  # one PUT of this log at a time

    def write(self, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            self._buf += data
            scheduled = self._dirty
            self._dirty = True
            size = len(self._buf)
        if not scheduled:
            _flusher().schedule(self, FLUSH_EVERY + size / FLUSH_RATE)

    def flush(self) -> None:
        with self._flushing:
            with self._lock:
                if not self._dirty:
                    return
                data = bytes(self._buf)
                self._dirty = False
            try:
                self.storage.put(self.key, [data])
            except BaseException:
                with self._lock:
                    self._dirty = True  # the next flush (or close) tries again
                raise

    def close(self) -> None:
        self.flush()


class _Flusher:
    """One daemon thread that flushes each dirty log once its time has come."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[S3LogSink, float] = {}
        self._thread: threading.Thread | None = None

    def schedule(self, sink: S3LogSink, delay: float) -> None:
        with self._cond:
            if sink in self._due:
                return
            self._due[sink] = time.monotonic() + delay
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="headwater-s3-logs", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                ready = [s for s, t in self._due.items() if t <= now]
                for s in ready:
                    del self._due[s]
                if not ready:
                    wait = min(self._due.values(), default=now + 60.0) - now
                    self._cond.wait(wait)
                    continue
            for sink in ready:
                with contextlib.suppress(Exception):  # close() flushes again, and reports
                    sink.flush()


_state: list[_Flusher] = []  # the process's flusher, once made
_state_lock = threading.Lock()
_hooked: list[bool] = []


def _flusher() -> _Flusher:
    if not _state:
        with _state_lock:
            if not _state:
                if not _hooked and hasattr(os, "register_at_fork"):
                    os.register_at_fork(after_in_child=_forget)
                    _hooked.append(True)
                _state.append(_Flusher())
    return _state[0]


def _forget() -> None:
    """In a forked child: the flusher's thread is the parent's; a new one starts if needed."""
    global _state_lock
    _state.clear()
    _state_lock = threading.Lock()
