"""SQL text and row decoding for the PostgreSQL metadata store, and the recording of runs whose
lease expired (their runtime stopped renewing it: see run_heartbeat)."""

from __future__ import annotations

from headwater.core.tags import check_user_tag_count
from headwater.exceptions import TagError
from headwater.metadata_store.abandoned_runs import DIED
from headwater.metadata_store.records import RunRecord, RunStatus, TaskRecord, TaskStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

NOW = "extract(epoch from clock_timestamp())"  # the database's clock: leases never trust a client's

# A run's fields, named and ordered as RunRecord's (the service's JSON answers use the names).
RUN_FIELDS = (
    'r.flow, r.run_id, r.username AS "user", r.status, r.created_at, r.finished_at,'
    " COALESCE(g.tags, '{}') AS tags, COALESCE(g.system_tags, '{}') AS system_tags,"
    " r.origin_run_id"
)
RUN_FROM = (
    " FROM runs AS r LEFT JOIN LATERAL ("  # one probe of run_tags per run, for both kinds
    "SELECT array_agg(t.tag ORDER BY t.position) FILTER (WHERE NOT t.is_system) AS tags,"
    " array_agg(t.tag ORDER BY t.position) FILTER (WHERE t.is_system) AS system_tags"
    " FROM run_tags AS t WHERE t.flow = r.flow AND t.run_id = r.run_id) AS g ON TRUE"
)
# The fields, then whether the run's lease expired.
RUN_SELECT = (
    f"SELECT {RUN_FIELDS}, (r.status = 'running' AND r.lease_expires_at < {NOW})" + RUN_FROM
)

RUN_BY_IDS = RUN_SELECT + " WHERE r.flow = %s AND r.run_id = ANY(%s)"
EXPIRED_IN_FLOW = (
    f"SELECT 1 FROM runs WHERE flow = %s AND status = 'running' AND lease_expires_at < {NOW}"
    " LIMIT 1"
)

TASK_COLUMNS = (
    "flow, run_id, step, task_id, status, created_at, finished_at, attempts, "
    "successful_attempt, parents, foreach_index, origin_pathspec"
)
TASK_KEY = "flow = %s AND run_id = %s AND step = %s AND task_id = %s"
TASK_ORDER = "task_number IS NULL, task_number, foreach_index, task_id, step"  # of list_tasks
PLACEHOLDER = "%s"  # of a query parameter


def run_query(flow: str, run_id: str) -> tuple[str, tuple[str, str]]:
    return RUN_SELECT + " WHERE r.flow = %s AND r.run_id = %s", (flow, run_id)


def _runs_where(
    flow: str, tags: Sequence[str], status: RunStatus | None, limit: int | None
) -> tuple[str, list[Any]]:
    sql = " WHERE r.flow = %s"
    params: list[Any] = [flow]
    for tag in tags:
        sql += (
            " AND EXISTS (SELECT 1 FROM run_tags AS x"
            " WHERE x.flow = r.flow AND x.run_id = r.run_id AND x.tag = %s)"
        )
        params.append(tag)
    if status is not None:
        sql += " AND r.status = %s"
        params.append(status.value)
    sql += " ORDER BY r.run_number DESC"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    return sql, params


def runs_query(
    flow: str, tags: Sequence[str], status: RunStatus | None, limit: int | None
) -> tuple[str, list[Any]]:
    """Runs of ``flow`` carrying every tag, newest first (served by runs_newest, or by
    runs_by_status with a status, probing run_tags for each tag)."""
    where, params = _runs_where(flow, tags, status, limit)
    return RUN_SELECT + where, params


def runs_json_query(
    flow: str, tags: Sequence[str], status: RunStatus | None, limit: int | None
) -> tuple[str, list[Any]]:
    """The runs of runs_query as one JSON array of objects named like RunRecord's fields,
    made by the database. json_agg keeps the order of its sorted subquery (an aggregate with
    no combine step, so never split across parallel workers)."""
    where, params = _runs_where(flow, tags, status, limit)
    inner = f"SELECT {RUN_FIELDS}{RUN_FROM}{where}"
    return f"SELECT COALESCE(json_agg(x), '[]')::text FROM ({inner}) AS x", params


def run_from_row(row: Sequence[Any]) -> RunRecord:
    flow, run_id, user, status, created, finished, tags, system_tags, origin, _expired = row
    return RunRecord(
        flow,
        run_id,
        user,
        RunStatus(status),
        created,
        finished,
        tuple(tags),
        tuple(system_tags),
        origin,
    )


def task_from_row(row: Sequence[Any]) -> TaskRecord:
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
        tuple(parents) if parents else (),
        idx,
        origin,
    )


def settle_expired(conn: Any, flow: str, run_ids: Iterable[str] | None = None) -> list[str]:
    """Record as INTERRUPTED the RUNNING runs of ``flow`` (all, or those of ``run_ids``) whose
    lease expired, and their unfinished attempts and tasks as FAILED; returns their ids. Run
    inside a transaction."""
    sql = (
        "SELECT run_id FROM runs WHERE flow = %s AND status = 'running'"
        f" AND lease_expires_at < {NOW}"
    )
    params: list[Any] = [flow]
    if run_ids is not None:
        sql += " AND run_id = ANY(%s)"
        params.append(list(run_ids))
    dead = [r for (r,) in conn.execute(sql + " FOR UPDATE", params).fetchall()]
    running, failed = RunStatus.RUNNING.value, TaskStatus.FAILED.value
    for run_id in dead:
        # The end is the last sign of life: the latest start or end of one of its attempts.
        (last,) = conn.execute(
            "SELECT max(greatest(started_at, coalesce(finished_at, 0))) FROM attempts"
            " WHERE flow = %s AND run_id = %s",
            (flow, run_id),
        ).fetchone()
        conn.execute(
            "UPDATE runs SET status = %s, finished_at = coalesce(%s, created_at),"
            " lease_expires_at = NULL WHERE flow = %s AND run_id = %s AND status = %s",
            (RunStatus.INTERRUPTED.value, last, flow, run_id, running),
        )
        conn.execute(
            "UPDATE attempts SET status = %s, finished_at = coalesce(%s, started_at),"
            " exception = %s WHERE flow = %s AND run_id = %s AND status = %s",
            (failed, last, DIED, flow, run_id, running),
        )
        conn.execute(
            "UPDATE tasks SET status = %s WHERE flow = %s AND run_id = %s AND status = %s",
            (failed, flow, run_id, running),
        )
    return dead


def update_tags(conn: Any, flow: str, run_id: str, remove: list[str], add: list[str]) -> bool:
    """Remove then add user tags of a run (checked already), inside a transaction; False when
    there is no such run. Removing a system tag raises TagError."""
    row = conn.execute(
        "SELECT run_number FROM runs WHERE flow = %s AND run_id = %s FOR UPDATE", (flow, run_id)
    ).fetchone()
    if row is None:
        return False
    number = row[0]
    current = conn.execute(
        "SELECT tag, is_system, position FROM run_tags WHERE flow = %s AND run_id = %s"
        " ORDER BY position",
        (flow, run_id),
    ).fetchall()
    system = {tag for tag, is_sys, _ in current if is_sys}
    for tag in remove:
        if tag in system:
            raise TagError(f"tag {tag!r} is a system tag and cannot be removed")
    user = [tag for tag, is_sys, _ in current if not is_sys]
    dropped = set(remove) - set(add)
    kept = [tag for tag in user if tag not in dropped]
    new = [tag for tag in add if tag not in kept and tag not in system]
    check_user_tag_count(kept + new)
    gone = [tag for tag in user if tag in dropped]
    if gone:
        conn.execute(
            "DELETE FROM run_tags WHERE flow = %s AND run_id = %s AND tag = ANY(%s)",
            (flow, run_id, gone),
        )
    if new:
        start = max((pos for _, _, pos in current), default=-1) + 1
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO run_tags (flow, run_id, run_number, tag, is_system, position)"
                " VALUES (%s, %s, %s, %s, false, %s)",
                [(flow, run_id, number, tag, start + i) for i, tag in enumerate(new)],
            )
    return True


def insert_metadata(
    conn: Any,
    key: tuple[str, str, str, str],
    attempt: int,
    entries: Mapping[str, str],
    now: float,
) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO task_metadata (flow, run_id, step, task_id, attempt, field, value,"
            " type, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(*key, attempt, str(f), str(v), str(f), now) for f, v in entries.items()],
        )
