"""SQL text and row decoding for the SQLite metadata store (its argument checks: checks.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from headwater.metadata_store.checks import (  # noqa: F401 - re-exported for sqlite.py
    canonical_number,
    check_attempt,
    check_name,
    check_system_tags,
    coerce,
)
from headwater.metadata_store.records import RunRecord, RunStatus, TaskRecord, TaskStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

RUN_COLUMNS = (
    "r.flow, r.run_id, r.run_number, r.user, r.status, r.created_at, r.finished_at, r.origin_run_id"
)
TASK_COLUMNS = (
    "flow, run_id, step, task_id, status, created_at, finished_at, attempts, "
    "successful_attempt, parents, foreach_index, origin_pathspec"
)
TASK_KEY = "flow = ? AND run_id = ? AND step = ? AND task_id = ?"
# list_tasks: numbered tasks by number; tasks a scheduler named (derived ids) by foreach index
TASK_ORDER = "task_number IS NULL, task_number, foreach_index, task_id, step"
PLACEHOLDER = "?"  # of a query parameter


def runs_query(
    flow: str, tags: Sequence[str], status: RunStatus | None, limit: int | None
) -> tuple[str, list[Any]]:
    """One query for runs of ``flow`` carrying every tag, newest first, with all their tags.

    With tags, the walk is driven by the (flow, tag, run_number) index of the first tag, newest
    first (CROSS JOIN fixes that join order), and the other tags are probed per run; without,
    by the (flow, [status,] run_number) index. The outer join adds every tag of the chosen runs.
    """
    params: list[Any] = [flow]
    if tags:
        inner = (
            "SELECT r.* FROM run_tags AS t0 CROSS JOIN runs AS r"
            " ON r.flow = t0.flow AND r.run_number = t0.run_number"
            " WHERE t0.flow = ? AND t0.tag = ?"
        )
        params.append(tags[0])
        for tag in tags[1:]:
            inner += (
                " AND EXISTS (SELECT 1 FROM run_tags AS tx"
                " WHERE tx.flow = r.flow AND tx.run_id = r.run_id AND tx.tag = ?)"
            )
            params.append(tag)
        order = "t0.run_number"
    else:
        inner = "SELECT r.* FROM runs AS r WHERE r.flow = ?"
        order = "r.run_number"
    if status is not None:
        inner += " AND r.status = ?"
        params.append(status.value)
    inner += f" ORDER BY {order} DESC"
    if limit is not None:
        inner += " LIMIT ?"
        params.append(limit)
    sql = (
        f"SELECT {RUN_COLUMNS}, t.tag, t.is_system FROM ({inner}) AS r"
        " LEFT JOIN run_tags AS t ON t.flow = r.flow AND t.run_id = r.run_id"
        " ORDER BY r.run_number DESC, t.position"
    )
    return sql, params


def runs_from_rows(rows: Iterable[tuple[Any, ...]]) -> list[RunRecord]:
    """Fold rows of (run columns..., tag, is_system), grouped by run, into records."""
    order: list[tuple[Any, ...]] = []
    tags: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for row in rows:
        key = (row[0], row[1])
        if key not in tags:
            order.append(row)
            tags[key] = ([], [])
        if row[8] is not None:
            tags[key][1 if row[9] else 0].append(row[8])
    out = []
    for flow, run_id, _n, user, status, created, finished, origin, *_ in order:
        user_tags, system_tags = tags[(flow, run_id)]
        out.append(
            RunRecord(
                flow=flow,
                run_id=run_id,
                user=user,
                status=RunStatus(status),
                created_at=created,
                finished_at=finished,
                tags=tuple(user_tags),
                system_tags=tuple(system_tags),
                origin_run_id=origin,
            )
        )
    return out


def parse_parents(text: str | None) -> tuple[str, ...]:
    """The parents column: a JSON list of pathspecs, as ``json.dumps`` wrote it.

    Pathspecs rarely need escaping, so a list with no backslash is split directly (the writer
    separates items with ``", "``); anything else goes through the json module. Client reads
    decode one of these per task, and this is most of the cost of listing tasks.
    """
    if not text:
        return ()
    if "\\" not in text and text.startswith('["') and text.endswith('"]'):
        return tuple(text[2:-2].split('", "'))
    from json import loads  # here: most reads never need json (or the re module it loads)

    return tuple(loads(text))


def task_from_row(row: tuple[Any, ...]) -> TaskRecord:
    """One TaskRecord from a row of TASK_COLUMNS."""
    (flow, run_id, step, task_id, status, created, finished, attempts, ok, parents, idx, origin) = (
        row
    )
    return TaskRecord(
        flow,
        run_id,
        step,
        task_id,
        TaskStatus(status),
        created,
        finished,
        attempts,
        ok,
        parse_parents(parents),
        idx,
        origin,
    )


def run_query(flow: str, run_id: str) -> tuple[str, tuple[str, str]]:
    sql = (
        f"SELECT {RUN_COLUMNS}, t.tag, t.is_system FROM runs AS r"
        " LEFT JOIN run_tags AS t ON t.flow = r.flow AND t.run_id = r.run_id"
        " WHERE r.flow = ? AND r.run_id = ? ORDER BY t.position"
    )
    return sql, (flow, run_id)
