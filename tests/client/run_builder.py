"""Writes runs into a datastore root the way the runtime does, without running any flow.

Records go through SqliteMetadata, artifacts and indexes through the local datastore, logs to the
attempt's log files. Used by the client tests and by the dump/logs/tag command tests, which
also use the stand-in CLI context and command runner at the end of this module.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater import config
from headwater.cli.output import Output
from headwater.core.ids import AttemptPath, params_path
from headwater.datastore.records import TaskIndex
from headwater.exceptions import CommandLineError
from headwater.metadata_store.records import RunRecord, RunStatus, TaskRecord, TaskStatus
from headwater.metadata_store.sqlite import SqliteMetadata
from headwater.settings import Settings
from headwater.stores import Stores, open_datastore, open_stores


class RunBuilder:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.meta = SqliteMetadata(self.root / "metadata.db")
        self.ds = open_datastore("local", str(self.root))

    def close(self) -> None:
        self.meta.close()

    # --- runs ---------------------------------------------------------------------------------

    def run(
        self,
        flow: str = "HelloFlow",
        user: str = "alice",
        tags: Sequence[str] = (),
        params: Mapping[str, Any] | None = None,
        constants: Mapping[str, Any] | None = None,
        origin_run_id: str | None = None,
    ) -> RunRecord:
        """Create a run (status RUNNING) with its parameters pseudo-task."""
        run = self.meta.create_run(
            flow,
            user,
            tags=tags,
            system_tags=(f"user:{user}", "runtime:dev", "python_version:3.12.0"),
            origin_run_id=origin_run_id,
        )
        params = dict(params or {})
        constants = dict(constants or {})
        refs = self.ds.save_values(flow, {**params, **constants})
        self.ds.write_index(
            params_path(flow, run.run_id),
            TaskIndex(
                artifacts=refs,
                attrs={"parameters": sorted(params), "constants": sorted(constants)},
            ),
        )
        return run

    def finish(self, run: RunRecord, status: RunStatus = RunStatus.COMPLETED) -> None:
        self.meta.set_run_status(run.flow, run.run_id, status)

    # --- tasks --------------------------------------------------------------------------------

    def task(
        self,
        run: RunRecord,
        step: str,
        values: Mapping[str, Any] | None = None,
        *,
        parents: Sequence[TaskRecord] = (),
        foreach_index: int | None = None,
        stack: Sequence[Mapping[str, Any]] = (),
        failures: int = 0,
        succeed: bool = True,
        stdout: bytes | Sequence[bytes] = b"",
        stderr: bytes | Sequence[bytes] = b"",
        metadata: Mapping[str, str] | None = None,
        transition: str = "linear",
        task_id: str | None = None,
    ) -> TaskRecord:
        """Add a task with ``failures`` failed attempts, then one that succeeds (or fails too
        when ``succeed`` is False). Its index holds the parameters, the first parent's
        artifacts and ``values``. ``stdout``/``stderr`` may give one blob per attempt."""
        flow, run_id = run.flow, run.run_id
        rec = self.meta.create_task(
            flow,
            run_id,
            step,
            parents=[p.pathspec for p in parents],
            foreach_index=foreach_index,
            task_id=task_id,
        )
        artifacts = dict(self.ds.read_index(params_path(flow, run_id)).artifacts)
        if parents:
            parent = parents[0]
            attempt = parent.successful_attempt or 0
            parent_path = AttemptPath(flow, run_id, parent.step, parent.task_id, attempt)
            artifacts.update(self.ds.read_index(parent_path).artifacts)
        n_attempts = failures + 1
        for attempt in range(n_attempts):
            ok = succeed and attempt == n_attempts - 1
            path = AttemptPath(flow, run_id, step, rec.task_id, attempt)
            self.meta.start_attempt(flow, run_id, step, rec.task_id, attempt)
            own = dict(values or {})
            if not ok:
                own["failed_attempt_marker"] = attempt
            refs = self.ds.save_values(flow, own)
            attrs: dict[str, Any] = {"failed": not ok}
            if ok:
                attrs["transition"] = {"kind": transition}
            self.ds.write_index(
                path, TaskIndex(artifacts={**artifacts, **refs}, stack=tuple(stack), attrs=attrs)
            )
            self._write_log(path, "stdout", stdout, attempt)
            self._write_log(path, "stderr", stderr, attempt)
            self.meta.finish_attempt(
                flow,
                run_id,
                step,
                rec.task_id,
                attempt,
                TaskStatus.SUCCEEDED if ok else TaskStatus.FAILED,
                exception=None if ok else f"ValueError: boom {attempt}",
                traceback=None
                if ok
                else f'Traceback (most recent call last):\n  File "flow.py", line 9\n'
                f"ValueError: boom {attempt}\n",
                metadata=metadata if ok else {"attempt-ok": "false"},
            )
        if not succeed:
            self.meta.finish_task(flow, run_id, step, rec.task_id, TaskStatus.FAILED)
        out = self.meta.get_task(flow, run_id, step, rec.task_id)
        assert out is not None
        return out

    def _write_log(
        self, path: AttemptPath, stream: str, data: bytes | Sequence[bytes], attempt: int
    ) -> None:
        if not isinstance(data, (bytes, bytearray)):
            data = data[attempt] if attempt < len(data) else b""
        if data:
            sink = self.ds.open_log(path, stream)
            sink.write(bytes(data))
            sink.close()

    # --- whole runs ---------------------------------------------------------------------------

    def linear(
        self,
        flow: str = "HelloFlow",
        user: str = "alice",
        tags: Sequence[str] = (),
        params: Mapping[str, Any] | None = None,
        status: RunStatus = RunStatus.COMPLETED,
    ) -> RunRecord:
        """start -> a -> end; start saves x, a saves y, end saves z (plus private _secret).
        A FAILED run stops with a failed ``a``; a RUNNING run stops after ``a``."""
        run = self.run(flow, user, tags, params=params)
        start = self.task(run, "start", {"x": 1, "_secret": "hidden"}, stdout=b"hello\n")
        if status is RunStatus.FAILED:
            self.task(run, "a", {"y": 2}, parents=[start], succeed=False, stderr=b"boom\n")
        else:
            a = self.task(run, "a", {"y": 2}, parents=[start])
            if status is RunStatus.COMPLETED:
                self.task(run, "end", {"z": 3}, parents=[a], transition="end")
        if status is not RunStatus.RUNNING:
            self.finish(run, status)
        return self.meta.get_run(flow, run.run_id) or run


# --- command line stand-ins ---------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CommandLineError(message)


@dataclass
class StubContext:
    """What command handlers use of CliContext."""

    flow_name: str
    out: Output
    root: Path
    opened: list[SqliteMetadata] = field(default_factory=list)

    def stores(self, for_run: bool = False) -> Stores:
        root = config.reading_root(self.root)
        settings = Settings(datastore="local", datastore_root=root, metadata="local")
        stores = open_stores(settings, local_root=root)
        self.opened.append(stores.metadata)
        return stores


class CommandRunner:
    """Parses argv with the given register() functions and calls the chosen handler; returns
    (exit code, stdout bytes, stderr text). Handler errors propagate as exceptions."""

    def __init__(
        self, root: Path, *registers: Callable[[Any], None], flow: str = "HelloFlow"
    ) -> None:
        self.root, self.flow = Path(root), flow
        self.parser = _Parser(prog="flow.py")
        sub = self.parser.add_subparsers(dest="command", parser_class=_Parser)
        for register in registers:
            register(sub)

    def __call__(self, *argv: str, quiet: bool = False) -> tuple[int, bytes, str]:
        stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        stderr = io.StringIO()
        ctx = StubContext(self.flow, Output(out=stdout, err=stderr, quiet=quiet), self.root)
        args = self.parser.parse_args(list(argv))
        try:
            code = args.handler(args, ctx)
        finally:
            for store in ctx.opened:
                store.close()
        stdout.flush()
        return code, stdout.buffer.getvalue(), stderr.getvalue()
