"""``ExecutingRun``: what ``Runner.run()`` / ``async_run()`` return.

It holds the client ``Run`` (found through the run id the command writes to ``--run-id-file``
before its first task starts), the subprocess's ``status``, ``returncode``, and the text it
wrote to ``stdout`` and ``stderr``. Used as a context manager it cleans up its Runner.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable

from headwater.exceptions import RunnerError
from headwater.runner.process import STREAMS, Child

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class ExecutingRun:
    """A run started by a Runner (finished already when it came from the blocking API)."""

    def __init__(
        self,
        runner: Any,
        child: Child,
        flow_name: str | None,
        run_id: str,
        connection: Callable[[], Any],
    ) -> None:
        self.runner = runner
        self._child = child
        self.flow_name = flow_name
        self.run_id = run_id
        self._connection = connection  # the client's stores of the command, made when needed
        self._run: Any = None

    def __repr__(self) -> str:
        return f"ExecutingRun({self.pathspec!r}, status={self.status!r})"

    # --- the run ------------------------------------------------------------------------------
    @property
    def pathspec(self) -> str:
        return f"{self.flow_name}/{self.run_id}"

    @property
    def run(self) -> Any:
        """The client ``Run`` of this run (no namespace check: it is the run just started)."""
        if self._run is None:
            if self.flow_name is None:
                raise RunnerError(
                    f"run {self.run_id} started, but its flow class could not be told from the "
                    "file: end it with `if __name__ == '__main__': MyFlow()`"
                )
            from headwater.client.run import Run

            self._run = Run(self.pathspec, _namespace_check=False, _conn=self._connection())
        return self._run

    # --- the subprocess -----------------------------------------------------------------------
    @property
    def returncode(self) -> int | None:
        """The command's exit code; None while it runs."""
        return self._child.returncode

    @property
    def status(self) -> str:
        """``"running"``, ``"successful"`` (exit code 0) or ``"failed"``."""
        code = self.returncode
        if code is None:
            return "running"
        return "successful" if code == 0 else "failed"

    @property
    def stdout(self) -> str:
        """Everything the command wrote to stdout so far (task output included)."""
        return self._child.text("stdout")

    @property
    def stderr(self) -> str:
        """Everything the command wrote to stderr so far (progress lines, errors)."""
        return self._child.text("stderr")

    @property
    def command(self) -> list[str]:
        return list(self._child.argv)

    def kill(self) -> None:
        """Stop the run if it is still going (it is recorded as interrupted)."""
        self._child.kill()

    async def wait(self, timeout: float | None = None, stream: str | None = None) -> ExecutingRun:
        """Wait for the command to end; with ``stream`` ("stdout"/"stderr") print that stream
        meanwhile. After ``timeout`` seconds the run is stopped (as Metaflow's Runner does)."""
        try:
            await asyncio.wait_for(self._wait(stream), timeout)
        except asyncio.TimeoutError:
            await asyncio.get_running_loop().run_in_executor(None, self._child.kill)
        return self

    async def _wait(self, stream: str | None) -> None:
        if stream is None:
            await self._child.wait_async()
            return
        target = sys.stdout if stream == "stdout" else sys.stderr
        async for _, line in self.stream_log(stream):
            target.write(line)
        target.flush()

    async def stream_log(
        self, stream: str = "stdout", position: int | None = None
    ) -> AsyncIterator[tuple[int, str]]:
        """Yield ``(position, line)`` for each line of ``stream`` from ``position`` (a line
        number; None: the beginning) as the command writes them, until it ends. Pass the
        last position + 1 to carry on where a previous stream stopped."""
        if stream not in STREAMS:
            raise ValueError(f"stream must be 'stdout' or 'stderr', not {stream!r}")
        pos = position or 0
        while True:
            for line in self._child.lines_from(stream, pos):
                yield pos, line
                pos += 1
            if self._child.done.is_set() and not self._child.lines_from(stream, pos):
                return
            await self._child.changed(stream, pos)

    # --- context manager ------------------------------------------------------------------------
    def __enter__(self) -> ExecutingRun:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.runner.cleanup()

    async def __aenter__(self) -> ExecutingRun:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.runner.cleanup)
