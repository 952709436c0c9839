"""One ``python flow.py run|resume`` subprocess: its captured output and its exit.

Two reader threads copy the child's stdout and stderr into memory (and, when asked, to this
process's own streams); a waiter thread reaps the child. The same object serves the blocking
API (wait on a threading event) and the async one (the threads wake asyncio waiters through
``call_soon_threadsafe``), so it works under any event loop, including a notebook's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import IO, Any

STREAMS = ("stdout", "stderr")
KILL_GRACE_S = 5.0  # after SIGINT, how long the runtime gets to stop its tasks and record it


class Child:
    """A started subprocess whose output is captured line by line."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: str | None,
        echo: Mapping[str, IO[str] | None] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.lines: dict[str, list[str]] = {s: [] for s in STREAMS}
        self._echo = dict(echo or {})
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.done = threading.Event()
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # its own process group: kill() reaches the whole run
        )
        self._readers = [
            threading.Thread(target=self._read, args=(name,), daemon=True) for name in STREAMS
        ]
        for t in self._readers:
            t.start()
        threading.Thread(target=self._reap, daemon=True).start()

    # --- threads ----------------------------------------------------------------------------
    def _read(self, stream: str) -> None:
        pipe = getattr(self.popen, stream)
        echo = self._echo.get(stream)
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            with self._lock:
                self.lines[stream].append(line)
            if echo is not None:
                with contextlib.suppress(Exception):
                    echo.write(line)
                    echo.flush()
            self._wake()
        pipe.close()

    def _reap(self) -> None:
        self.popen.wait()
        for t in self._readers:
            t.join()
        self.done.set()
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(event.set)

    # --- state -------------------------------------------------------------------------------
    @property
    def returncode(self) -> int | None:
        """The exit code once the child ended and its output is read; None before."""
        return self.popen.returncode if self.done.is_set() else None

    def text(self, stream: str) -> str:
        with self._lock:
            return "".join(self.lines[stream])

    def lines_from(self, stream: str, position: int) -> list[str]:
        with self._lock:
            return self.lines[stream][position:]

    # --- waiting -----------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> bool:
        """Block until the child ended; False when ``timeout`` passed first."""
        return self.done.wait(timeout)

    async def changed(self, stream: str | None = None, position: int = 0) -> None:
        """Return when the child ended, or (given ``stream``) when that stream holds more than
        ``position`` lines; immediately when that is already so."""
        event = asyncio.Event()
        with self._lock:  # lines are appended under the lock, so no wake-up is missed
            if self.done.is_set() or (stream and len(self.lines[stream]) > position):
                return
            self._waiters.append((asyncio.get_running_loop(), event))
        await event.wait()

    async def wait_async(self) -> None:
        while not self.done.is_set():
            await self.changed()

    # --- stopping ----------------------------------------------------------------------------
    def kill(self, grace_s: float = KILL_GRACE_S) -> None:
        """Stop a running child: SIGINT first (the runtime records the run as interrupted and
        stops its tasks), then SIGKILL to its whole process group."""
        if self.done.is_set() or self.popen.poll() is not None:
            self.done.wait(grace_s)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.popen.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(grace_s)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self.done.wait(grace_s)


def child_env(base: Mapping[str, str], extra: Mapping[str, Any] | None) -> dict[str, str]:
    """The subprocess environment: ``base`` updated with ``extra`` (a None value removes a
    variable); output unbuffered so lines arrive as they are printed."""
    env = dict(base)
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
