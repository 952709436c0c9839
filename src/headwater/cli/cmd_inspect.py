"""``dump RUN/STEP[/TASK]`` (a task's artifacts) and ``logs RUN/STEP[/TASK]`` (what it
printed). Paths are relative to the flow; every run is visible (no namespace filter)."""

from __future__ import annotations

import argparse
import os
import pickle
from collections.abc import Sequence
from pathlib import Path

from headwater.client.provider import Connection, connection_of
from headwater.client.run import Run
from headwater.client.task import LOG_STREAMS, Task
from headwater.exceptions import CommandLineError, InvalidPathspec, ObjectNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

DEFAULT_MAX_VALUE_SIZE = 1000  # bytes (serialized) a printed value may have; as Metaflow's
MAX_REPR_CHARS = 500
MAX_REPR_LINES = 20
INDENT = "    "


def register(sub: argparse._SubParsersAction, flow_cls: type | None = None) -> None:
    p = sub.add_parser(
        "dump",
        help="print the artifacts of a task, or of every task of a step",
        description="Print the artifacts of RUN/STEP/TASK, or of every task of RUN/STEP. "
        "Big values are summarised as <type, size>; --file saves them all as a pickle.",
    )
    p.add_argument("input_path", metavar="RUN/STEP[/TASK]")
    p.add_argument("--private", action="store_true", help="include private (_name) artifacts")
    p.add_argument(
        "--max-value-size",
        type=int,
        default=None,
        metavar="BYTES",
        help=f"summarise values bigger than this (default {DEFAULT_MAX_VALUE_SIZE} when "
        "printing, no limit with --file)",
    )
    p.add_argument("--include", default=None, metavar="A,B", help="only these artifacts")
    p.add_argument(
        "--file",
        default=None,
        metavar="PATH",
        help="write {task pathspec: {name: value}} to PATH as a pickle instead of printing",
    )
    p.set_defaults(handler=handle_dump)

    p = sub.add_parser(
        "logs",
        help="print what a task (or every task of a step) wrote to stdout and stderr",
        description="Print the saved output of RUN/STEP/TASK, or of every task of RUN/STEP: "
        "stdout then stderr unless one is chosen.",
    )
    p.add_argument("input_path", metavar="RUN/STEP[/TASK]")
    p.add_argument("--stdout", action="store_true", help="only standard output")
    p.add_argument("--stderr", action="store_true", help="only standard error")
    p.add_argument(
        "--attempt",
        type=int,
        default=None,
        metavar="N",
        help="show attempt N (0, 1, ...; default: the successful one, else the latest)",
    )
    p.set_defaults(handler=handle_logs)


# --- finding tasks ------------------------------------------------------------------------------


def _connection(ctx: Any) -> Connection:
    return connection_of(ctx.stores())


def _split(flow: str, input_path: str) -> list[str]:
    parts = input_path.strip("/").split("/") if input_path.strip("/") else []
    if len(parts) in (3, 4) and parts[0] == flow:
        parts = parts[1:]  # accept a full pathspec "Flow/run/step[/task]" too
    if not 2 <= len(parts) <= 3 or any(not p for p in parts):
        raise InvalidPathspec(
            f"malformed path {input_path!r}: expected RUN/STEP or RUN/STEP/TASK, e.g. 3/start/1"
        )
    return parts


def find_tasks(ctx: Any, input_path: str, attempt: int | None = None) -> list[Task]:
    """The tasks ``RUN/STEP[/TASK]`` names, oldest first, at ``attempt`` when given."""
    flow = ctx.flow_name
    parts = _split(flow, input_path)
    conn = _connection(ctx)
    run = Run(f"{flow}/{parts[0]}", _namespace_check=False, _conn=conn)
    step = run[parts[1]]
    tasks = [step[parts[2]]] if len(parts) == 3 else list(step)[::-1]
    if not tasks:
        raise ObjectNotFound(f"step {step.pathspec} has no task yet: check the run's progress")
    if attempt is None:
        return tasks
    chosen = []
    for task in tasks:
        try:
            chosen.append(Task(task.pathspec, attempt=attempt, _namespace_check=False, _conn=conn))
        except ObjectNotFound:
            if len(tasks) == 1:
                raise
    if not chosen:
        raise ObjectNotFound(
            f"no task of {step.pathspec} has an attempt {attempt}: attempts are numbered from 0"
        )
    return chosen


# --- dump ---------------------------------------------------------------------------------------


def _preview(value: Any) -> list[str]:
    """repr of ``value`` cut to a readable size, as lines."""
    try:
        text = repr(value)
    except Exception as ex:  # noqa: BLE001 - a broken __repr__ must not stop the dump
        return [f"<{type(value).__name__}: repr failed: {type(ex).__name__}: {ex}>"]
    cut = len(text) > MAX_REPR_CHARS
    if cut:
        text = text[:MAX_REPR_CHARS]
    lines = text.splitlines() or [""]
    if len(lines) > MAX_REPR_LINES:
        lines, cut = lines[:MAX_REPR_LINES], True
    if cut:
        lines[-1] += " ..."
    return lines


def _names(task: Task, include: Sequence[str] | None, private: bool) -> tuple[list[str], list[str]]:
    """(names to show, names asked for with --include that the task lacks)."""
    if include is None:
        return task.artifact_names(private=private), []
    present = set(task.artifact_names(private=True))
    return [n for n in include if n in present], [n for n in include if n not in present]


def handle_dump(args: argparse.Namespace, ctx: Any) -> int:
    include = None
    if args.include is not None:
        include = list(dict.fromkeys(n.strip() for n in args.include.split(",") if n.strip()))
        if not include:
            raise CommandLineError("--include needs artifact names, e.g. --include x,y")
    limit = args.max_value_size
    if limit is not None and limit < 0:
        raise CommandLineError(f"--max-value-size must be 0 or more bytes, got {limit}")
    tasks = find_tasks(ctx, args.input_path)
    out = ctx.out
    result: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for task in tasks:
        names, missing = _names(task, include, args.private)
        for name in missing:
            out.warn(f"{task.pathspec} has no artifact {name!r}")
        if args.file is not None:
            values = {}
            for name in names:
                art = task[name]
                if limit is not None and art.size > limit:
                    skipped.append(f"{task.pathspec}/{name}")
                else:
                    values[name] = art.data
            result[task.pathspec] = values
            continue
        out.echo(f"{task.pathspec} (attempt {task.current_attempt}):")
        if not names:
            out.echo(f"{INDENT}(no artifacts)")
        show_limit = DEFAULT_MAX_VALUE_SIZE if limit is None else limit
        for name in names:
            art = task[name]
            if art.size > show_limit:
                out.echo(f"{INDENT}{name}: <{art.type}, {art.size} bytes>")
                continue
            first, *rest = _preview(art.data)
            out.echo(f"{INDENT}{name}: {first}")
            for line in rest:
                out.echo(f"{INDENT}{INDENT}{line}")
    if args.file is not None:
        _write_pickle(Path(args.file), result)
        n_values = sum(len(v) for v in result.values())
        out.info(f"Wrote {n_values} artifact(s) of {len(result)} task(s) to {args.file}")
        if skipped:
            out.warn(
                f"left out {len(skipped)} value(s) bigger than {limit} bytes: "
                + ", ".join(skipped[:5])
                + (", ..." if len(skipped) > 5 else "")
            )
    return 0


def _write_pickle(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as ex:
        tmp.unlink(missing_ok=True)
        raise CommandLineError(
            f"could not write {path} ({ex.strerror or ex}): check the directory exists and "
            "is writable"
        ) from None


# --- logs ---------------------------------------------------------------------------------------


def handle_logs(args: argparse.Namespace, ctx: Any) -> int:
    if args.attempt is not None and args.attempt < 0:
        raise CommandLineError(f"--attempt must be 0 or more, got {args.attempt}")
    streams = [s for s in LOG_STREAMS if getattr(args, s)] or list(LOG_STREAMS)
    tasks = find_tasks(ctx, args.input_path, args.attempt)
    out = ctx.out
    for task in tasks:
        if len(tasks) > 1:
            out.info(f"--- {task.pathspec} (attempt {task.current_attempt}) ---")
        printed = False
        for stream in streams:
            data = task.log_bytes(stream)
            if data:
                out.write_bytes(data, "stdout")
                printed = True
        if not printed:
            what = " or ".join(streams)
            out.info(f"{task.pathspec} (attempt {task.current_attempt}) saved no {what} output")
    return 0
