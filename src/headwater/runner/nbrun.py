"""``NBRunner(FlowClass)``: run a flow defined in a notebook cell.

The class's cell is written to a temporary flow file (see :mod:`flow_source`), which a
:class:`Runner` then runs like any other. ``nbrun(**params)`` blocks and returns the client
``Run``; ``run``/``resume``/``async_run``/``async_resume`` return an ``ExecutingRun`` as
Runner's do. The notebook's working directory is on the flow's ``PYTHONPATH``, so modules
next to the notebook import as they do in the notebook.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from headwater.exceptions import RunnerError
from headwater.runner.command import FlowInfo
from headwater.runner.executing import ExecutingRun
from headwater.runner.flow_source import flow_file_source
from headwater.runner.runner import Runner

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class NBRunner:
    """``NBRunner(FlowClass, show_output=True, env=None, base_dir=None, **top_level_options)``."""

    def __init__(
        self,
        flow: type,
        show_output: bool = True,
        profile: str | None = None,
        env: Mapping[str, Any] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        file_read_timeout: float = 3600,
        **kwargs: Any,
    ) -> None:
        from headwater.core.flowspec import FlowSpec

        if not (isinstance(flow, type) and issubclass(flow, FlowSpec)):
            raise RunnerError(f"NBRunner takes a FlowSpec subclass, not {flow!r}")
        self.flow = flow
        self.source = flow_file_source(flow)
        self.base_dir = str(base_dir) if base_dir is not None else None
        self.show_output = show_output
        self.profile = profile
        self.env = dict(env or {})
        here = os.getcwd()
        path = self.env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in (here, path) if p)
        self.env.setdefault("JPY_PARENT_PID", None)  # the flow is not a kernel's child
        self.file_read_timeout = file_read_timeout
        self.top_level_kwargs = kwargs
        self._dir: str | None = None
        self._runner: Runner | None = None

    def __repr__(self) -> str:
        return f"NBRunner({self.flow.__name__})"

    @property
    def flow_file(self) -> Path:
        """The temporary flow file (written again if cleanup() removed it)."""
        if self._dir is None or not os.path.isdir(self._dir):
            self._dir = tempfile.mkdtemp(prefix="headwater-nbrunner-", dir=self.base_dir)
            self._runner = None
        path = Path(self._dir) / f"{self.flow.__name__}.py"
        if not path.exists():
            path.write_text(self.source, encoding="utf-8")
        return path

    @property
    def runner(self) -> Runner:
        flow_file = self.flow_file
        if self._runner is None:
            self._runner = Runner(
                flow_file,
                show_output=self.show_output,
                profile=self.profile,
                env=self.env,
                file_read_timeout=self.file_read_timeout,
                _flow_info=FlowInfo.from_class(self.flow),
                **self.top_level_kwargs,
            )
        return self._runner

    # --- notebook API: block, clean up, return the client Run ------------------------------------
    def nbrun(self, **kwargs: Any) -> Any:
        """Run the flow with ``kwargs`` (parameters and run options); returns the client Run."""
        try:
            return self.runner.run(**kwargs).run
        finally:
            self.cleanup()

    def nbresume(self, **kwargs: Any) -> Any:
        """Resume (``step=``, ``origin_run_id=``); returns the client Run of the new run."""
        try:
            return self.runner.resume(**kwargs).run
        finally:
            self.cleanup()

    # --- Runner's API ---------------------------------------------------------------------------
    def run(self, **kwargs: Any) -> ExecutingRun:
        return self.runner.run(**kwargs)

    def resume(self, **kwargs: Any) -> ExecutingRun:
        return self.runner.resume(**kwargs)

    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        return await self.runner.async_run(**kwargs)

    async def async_resume(self, **kwargs: Any) -> ExecutingRun:
        return await self.runner.async_resume(**kwargs)

    def cleanup(self) -> None:
        """Stop runs still going and remove the temporary flow file."""
        if self._runner is not None:
            self._runner.cleanup()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> NBRunner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    async def __aenter__(self) -> NBRunner:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        import asyncio

        await asyncio.get_running_loop().run_in_executor(None, self.cleanup)
