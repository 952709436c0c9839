"""The writes a client may make, who may make them, and how one request's writes are applied:
in one transaction, and once per idempotency key.

Every write but ``create_run`` names a run, and only the run's user (the token's) may make it:
anyone else gets :class:`NotRunOwner` (HTTP 403). ``create_run`` takes the user from the token:
the run belongs to that user, and its system tags start with ``user:<that user>`` (any
``user:`` tag the client sent is dropped). Other system tags are accepted only at creation: the
tag calls refuse system tags, so clients can never change them afterwards.

A request that carries an ``Idempotency-Key`` is recorded in ``service_requests`` with its
answer, in the transaction of its writes: the same key again (a client retrying after the
service committed but before the answer arrived) rolls its own writes back and gets the
recorded answer, so the writes are applied once.
"""

from __future__ import annotations

import json

from headwater.exceptions import (
    HeadwaterException,
    MetadataAuthError,
    MetadataUnavailable,
    NotRunOwner,
)
from headwater.metadata_store.checks import check_name, coerce
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.service import schemas

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Sequence
    from typing import Any

    from pydantic import BaseModel

    from headwater.metadata_store.postgres import PostgresMetadata


def status_of(exc: HeadwaterException) -> int:
    if isinstance(exc, MetadataAuthError):
        return 401
    if isinstance(exc, NotRunOwner):
        return 403
    if isinstance(exc, MetadataUnavailable):
        return 503
    return 400


def error_body(exc: HeadwaterException) -> dict[str, Any]:
    return {"error": " ".join(str(exc).split()), "kind": type(exc).__name__}


def _check_owner(store: PostgresMetadata, user: str, flow: str, run_id: str) -> None:
    check_name("flow name", flow)
    check_name("run id", run_id)
    owner = store.run_owner(flow, run_id)
    if owner is not None and owner != user:
        raise NotRunOwner(
            f"run {flow}/{run_id} belongs to {owner}: only {owner}'s token may write it "
            f"(this token is {user}'s)"
        )


def _task_owner(store: PostgresMetadata, user: str, a: Any) -> None:
    _check_owner(store, user, a.flow, a.run_id)
    check_name("step name", a.step)
    check_name("task id", a.task_id)


def create_run(store: PostgresMetadata, user: str, a: schemas.CreateRun) -> dict[str, Any]:
    check_name("flow name", a.flow)
    if a.run_id is not None:
        check_name("run id", a.run_id)
        existing = store.get_run(a.flow, a.run_id)
        if existing is not None:
            return {"run": existing._asdict(), "created": False}
    system = [f"user:{user}"] + [t for t in a.system_tags if not t.startswith("user:")]
    run = store.create_run(
        a.flow,
        user,
        tags=a.tags,
        system_tags=system,
        origin_run_id=a.origin_run_id,
        run_id=a.run_id,
        lease_s=a.lease_s,
    )
    return {"run": run._asdict(), "created": True}


def set_run_status(store: PostgresMetadata, user: str, a: schemas.SetRunStatus) -> None:
    _check_owner(store, user, a.flow, a.run_id)
    store.set_run_status(a.flow, a.run_id, coerce(RunStatus, a.status))


def heartbeat(store: PostgresMetadata, user: str, a: schemas.Heartbeat) -> dict[str, Any]:
    _check_owner(store, user, a.flow, a.run_id)
    status = store.renew_lease(a.flow, a.run_id)
    return {"status": None if status is None else status.value}


def create_task(store: PostgresMetadata, user: str, a: schemas.CreateTask) -> dict[str, Any]:
    _check_owner(store, user, a.flow, a.run_id)
    task = store.create_task(
        a.flow,
        a.run_id,
        a.step,
        parents=a.parents,
        foreach_index=a.foreach_index,
        origin_pathspec=a.origin_pathspec,
        task_id=a.task_id,
    )
    return task._asdict()


def start_attempt(store: PostgresMetadata, user: str, a: schemas.StartAttempt) -> None:
    _task_owner(store, user, a)
    store.start_attempt(a.flow, a.run_id, a.step, a.task_id, a.attempt)


def finish_attempt(store: PostgresMetadata, user: str, a: schemas.FinishAttempt) -> None:
    _task_owner(store, user, a)
    store.finish_attempt(
        a.flow,
        a.run_id,
        a.step,
        a.task_id,
        a.attempt,
        coerce(TaskStatus, a.status),
        exception=a.exception,
        traceback=a.traceback,
        metadata=a.metadata,
    )


def finish_task(store: PostgresMetadata, user: str, a: schemas.FinishTask) -> None:
    _task_owner(store, user, a)
    store.finish_task(a.flow, a.run_id, a.step, a.task_id, coerce(TaskStatus, a.status))


def add_task_metadata(store: PostgresMetadata, user: str, a: schemas.AddTaskMetadata) -> None:
    _task_owner(store, user, a)
    store.add_task_metadata(a.flow, a.run_id, a.step, a.task_id, a.attempt, a.entries)


def update_tags(store: PostgresMetadata, user: str, a: schemas.UpdateTags) -> dict[str, Any]:
    _check_owner(store, user, a.flow, a.run_id)
    return store.replace_tags(a.flow, a.run_id, a.remove, a.add)._asdict()


# op name -> (body model, function)
WRITES: dict[str, tuple[type[BaseModel], Callable[..., Any]]] = {
    "create_run": (schemas.CreateRun, create_run),
    "set_run_status": (schemas.SetRunStatus, set_run_status),
    "heartbeat": (schemas.Heartbeat, heartbeat),
    "create_task": (schemas.CreateTask, create_task),
    "start_attempt": (schemas.StartAttempt, start_attempt),
    "finish_attempt": (schemas.FinishAttempt, finish_attempt),
    "finish_task": (schemas.FinishTask, finish_task),
    "add_task_metadata": (schemas.AddTaskMetadata, add_task_metadata),
    "update_tags": (schemas.UpdateTags, update_tags),
}


class _Replay(Exception):
    """The request's idempotency key was recorded by an earlier request: undo this one."""


def _record(store: PostgresMetadata, user: str, key: str, answer: str, now: float) -> None:
    """Record the answer of the request with ``key``, in the transaction of its writes. A key
    recorded before raises _Replay (a concurrent request with the same key makes this wait
    until that one commits or rolls back)."""
    fresh = store.execute(
        "INSERT INTO service_requests (request_key, username, created_at, response)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
        (key, user, now, answer),
    )
    if not fresh:
        raise _Replay


def _recorded(store: PostgresMetadata, user: str, key: str) -> tuple[int, str]:
    rows = store.query(
        "SELECT username, response FROM service_requests WHERE request_key = %s", (key,)
    )
    if not rows or rows[0][0] != user or rows[0][1] is None:
        text = {
            "error": "this idempotency key was used by another request",
            "kind": "MetadataError",
        }
        return 409, json.dumps(text)
    status, _, body = rows[0][1].partition(" ")
    return int(status), body


def apply(
    store: PostgresMetadata,
    user: str,
    key: str | None,
    ops: Sequence[tuple[str, Any]],
    batch: bool,
    now: float,
) -> tuple[int, str]:
    """Apply ``ops`` [(name, body model)] in order in one transaction, stopping at the first
    that fails; returns (HTTP status, JSON body). A single op answers with its result or its
    error (a failed op changes nothing and is not recorded: sent again, it fails again); a
    batch answers 200 with ``{"results": [...], "error": null | {...}}``, the writes before a
    failing one applied and the answer recorded."""
    if key is not None and (len(key) > 200 or not key.isprintable()):
        key = None
    try:
        with store.transaction(savepoints=batch):
            results: list[Any] = []
            failure: tuple[int, HeadwaterException] | None = None
            for index, (name, body) in enumerate(ops):
                try:
                    results.append(WRITES[name][1](store, user, body))
                except MetadataUnavailable:
                    raise  # the database failed: roll back whole, the client retries
                except HeadwaterException as exc:
                    if not batch:
                        raise
                    failure = (index, exc)
                    break
            if batch:
                error = None
                if failure is not None:
                    index, failed = failure
                    error = {**error_body(failed), "status": status_of(failed), "index": index}
                status, text = 200, json.dumps({"results": results, "error": error})
            else:
                status, text = 200, json.dumps(results[0])
            if key is not None:
                _record(store, user, key, f"{status} {text}", now)
    except _Replay:
        assert key is not None, "only _record raises _Replay, and only with a key"
        return _recorded(store, user, key)
    except MetadataUnavailable:
        raise
    except HeadwaterException as exc:  # a single op that failed: rolled back
        return status_of(exc), json.dumps(error_body(exc))
    return status, text


def forget_old_requests(store: PostgresMetadata, older_than_s: float, now: float) -> int:
    """Drop recorded answers older than ``older_than_s`` (clients retry for minutes, not days)."""
    return len(
        store.execute(
            "DELETE FROM service_requests WHERE created_at < %s RETURNING 1",
            (now - older_than_s,),
        )
    )
