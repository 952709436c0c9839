"""``Runner("flow.py", **top_level_options)``: start and resume runs from Python.

Each call runs ``python flow.py [options] run|resume ...`` as a subprocess, exactly as on the
command line, and returns an :class:`ExecutingRun`. ``run``/``resume`` block until the command
ends; ``async_run``/``async_resume`` return as soon as the run exists (its id is written before
the first task starts). As a context manager a Runner stops the runs it started that are still
going and removes its temporary files.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from headwater.exceptions import RunnerError
from headwater.runner.command import (
    FlowInfo,
    load_flow_info,
    resume_args,
    run_args,
    top_level_args,
)
from headwater.runner.executing import ExecutingRun
from headwater.runner.process import Child, child_env

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

_ID_WAIT_START_S = 0.005
_ID_WAIT_MAX_S = 0.1


class Runner:
    """Run a flow file programmatically.

    ``Runner("flow.py", show_output=True, env=None, cwd=None, **kwargs)``: ``kwargs`` are the
    top-level options of ``python flow.py`` (``datastore_root="..."``, ``branch="b"``,
    ``production=True``, ``decospecs=["retry"]``, ``pylint=False`` ...). ``env`` adds to (a None
    value removes from) this process's environment; ``cwd`` is where the command runs.
    """

    def __init__(
        self,
        flow_file: str | os.PathLike[str],
        show_output: bool = True,
        profile: str | None = None,
        env: Mapping[str, Any] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        file_read_timeout: float = 3600,
        **kwargs: Any,
    ) -> None:
        path = Path(flow_file).expanduser().resolve()  # relative to the current directory
        if not path.is_file():
            raise RunnerError(
                f"flow file {str(flow_file)!r} not found: give the path of a .py file"
            )
        self._flow_info: FlowInfo | None = kwargs.pop("_flow_info", None)  # set by NBRunner
        self.flow_file = path
        self.show_output = show_output
        self.profile = profile  # accepted for Metaflow compatibility; headwater has no profiles
        self.env = child_env(os.environ, env)
        self.cwd = str(Path(cwd).resolve()) if cwd is not None else os.getcwd()
        self.file_read_timeout = file_read_timeout
        self.top_level_kwargs = dict(kwargs)
        self._tmpdir: str | None = None
        self._children: list[Child] = []
        self._count = 0

    def __repr__(self) -> str:
        return f"Runner({str(self.flow_file)!r})"

    # --- blocking API ---------------------------------------------------------------------------
    def run(self, **kwargs: Any) -> ExecutingRun:
        """Run the flow with ``kwargs`` (its parameters and run options such as ``tags``,
        ``max_workers``); returns when the command has ended."""
        return self._blocking("run", run_args(self._info(), kwargs))

    def resume(self, **kwargs: Any) -> ExecutingRun:
        """Resume a run: ``step`` (default: where it failed), ``origin_run_id`` (default: your
        latest run), and run options; returns when the command has ended."""
        return self._blocking("resume", resume_args(kwargs))

    # --- async API ------------------------------------------------------------------------------
    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        """Start a run and return as soon as it exists; ``await running.wait()`` for the end."""
        return await self._started("run", run_args(self._info(), kwargs))

    async def async_resume(self, **kwargs: Any) -> ExecutingRun:
        return await self._started("resume", resume_args(kwargs))

    # --- cleanup ----------------------------------------------------------------------------------
    def cleanup(self) -> None:
        """Stop runs this Runner started that are still going; remove its temporary files."""
        for child in self._children:
            child.kill()
        self._children = [c for c in self._children if not c.done.is_set()]
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    async def __aenter__(self) -> Runner:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.cleanup)

    # --- internals --------------------------------------------------------------------------------
    def _info(self) -> FlowInfo:
        if self._flow_info is None:
            self._flow_info = load_flow_info(self.flow_file, self.env)
        return self._flow_info

    def _start(self, command: str, args: list[str], echo: bool) -> tuple[Child, Path]:
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="headwater-runner-")
        self._count += 1
        id_file = Path(self._tmpdir) / f"run-id-{self._count}"
        argv = [
            sys.executable,
            str(self.flow_file),
            *top_level_args(self.top_level_kwargs),
            command,
            *args,
            "--run-id-file",
            str(id_file),
        ]
        streams = {"stdout": sys.stdout, "stderr": sys.stderr} if echo else None
        try:
            child = Child(argv, self.env, self.cwd, streams)
        except OSError as ex:
            raise RunnerError(
                f"cannot start {argv[0]} ({ex.strerror}): check the interpreter"
            ) from None
        self._children.append(child)
        return child, id_file

    def _blocking(self, command: str, args: list[str]) -> ExecutingRun:
        child, id_file = self._start(command, args, echo=self.show_output)
        try:
            child.wait()
        except BaseException:  # Ctrl-C / a notebook's interrupt: the run must not go on alone
            child.kill()
            raise
        return self._executing(child, id_file)

    async def _started(self, command: str, args: list[str]) -> ExecutingRun:
        child, id_file = self._start(command, args, echo=False)
        deadline = time.monotonic() + self.file_read_timeout
        delay = _ID_WAIT_START_S
        # The run id file appears before the first task starts; poll for it (or the end).
        while not id_file.exists() and not child.done.is_set():
            if time.monotonic() > deadline:
                child.kill()
                raise RunnerError(
                    f"{self.flow_file.name} wrote no run id within {self.file_read_timeout:g} s: "
                    "the run was stopped; raise file_read_timeout if the flow starts slowly"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, _ID_WAIT_MAX_S)
        return self._executing(child, id_file)

    def _executing(self, child: Child, id_file: Path) -> ExecutingRun:
        try:
            run_id = id_file.read_text().strip()
        except OSError:
            run_id = ""
        if not run_id:
            child.wait()
            raise RunnerError(
                f"{self.flow_file.name} did not start a run (exit code {child.returncode}): "
                f"{_headline(child.text('stderr'))}"
            )
        return ExecutingRun(self, child, self._info().name, run_id, self._connection)

    def _connection(self) -> Any:
        """The stores the command used (headwater.stores), as its options, its environment
        and its working directory decide: what the client reads the run from."""
        from headwater import config
        from headwater.client.provider import connection_of
        from headwater.settings import load_settings
        from headwater.stores import open_stores

        kw = self.top_level_kwargs
        settings = load_settings(
            environ=self.env,
            datastore=kw.get("datastore"),
            datastore_root=kw.get("datastore_root"),
            metadata=kw.get("metadata"),
        )
        local_root = None
        if "local" in (settings.datastore, settings.metadata):
            explicit = settings.datastore_root if settings.datastore == "local" else None
            explicit = explicit or self.env.get("HEADWATER_ROOT")
            if explicit:
                local_root = str((Path(self.cwd) / Path(explicit).expanduser()).resolve())
            else:
                found = config.locate_root(self.cwd, environ=self.env)
                local_root = found or str(Path(self.cwd) / config.ROOT_DIR_NAME)
        return connection_of(open_stores(settings, local_root=local_root))


def _headline(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("error: "):
            return line[len("error: ") :]
    return lines[-1] if lines else "it printed nothing on stderr"
