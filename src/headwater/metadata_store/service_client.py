"""The metadata store over HTTP: a client of ``headwater service`` (see docs/commands/service.md).

Implements :class:`headwater.metadata_store.store.MetadataStore`; the service keeps the records
in PostgreSQL. This module has construction, batches and the writes; the reads are in
service_reads, and the requests (one keep-alive connection per object and process, one request
per call) in service_connection.

Choices beyond the interface:

- The run's user is the token's: ``create_run``'s ``user`` is not sent, and the service tags
  the run ``user:<token user>`` itself (any ``user:`` system tag given is replaced).
- Connection errors and 5xx answers are retried with backoff for HEADWATER_SERVICE_RETRY_S
  seconds (default 120), then raise :class:`MetadataUnavailable`; every write carries an
  idempotency key, so a write retried after the service committed it is applied once (see
  service_connection).
- ``batch()``: the writes made inside it (by the thread that opened it) are queued and sent as
  one request when it ends, applied by the service in one transaction, in order, stopping at
  the first that fails (whose error is raised then). Calls that return a record the client
  cannot build itself send the queue first and run at once: ``create_run``, the tag calls,
  ``create_task`` without a ``task_id``, and every read.
- ``held=True``: a daemon thread renews the run's lease (see run_heartbeat) until the run gets
  a final status; the service reads the run INTERRUPTED once the lease has expired.
- Pickling keeps the URL and the name of the setting the token is read from, never the token.
"""

from __future__ import annotations

import _thread
import os
import time

from headwater.core.tags import check_user_tag_count, validate_user_tags
from headwater.exceptions import MetadataError
from headwater.metadata_store import service_wire as wire
from headwater.metadata_store.checks import (
    check_attempt,
    check_name,
    check_parents,
    check_pathspec,
    check_system_tags,
    check_tags_to_remove,
    coerce,
)
from headwater.metadata_store.records import RunRecord, RunStatus, TaskRecord, TaskStatus
from headwater.metadata_store.service_connection import (
    TOKEN_SETTING,
    ServiceConnection,
    error_from,
)
from headwater.metadata_store.service_reads import ServiceReads

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

MAX_BATCH_OPS = 500  # a longer batch is sent in parts of this many writes


class ServiceMetadata(ServiceReads):
    """Run, step, task and attempt records kept by a headwater metadata service at ``url``,
    authenticated by ``token`` (default: the environment variable named ``token_setting``).
    Its reads are ServiceReads'."""

    def __init__(
        self, url: str, token: str | None = None, token_setting: str = TOKEN_SETTING
    ) -> None:
        self._service = ServiceConnection(url, token, token_setting)
        self.url = self._service.url
        self.token_setting = token_setting
        self._batch_ops: list[dict[str, Any]] = []
        self._batch_owner: tuple[int, int] | None = None  # (pid, thread) of the open batch
        self._batch_depth = 0
        self._heartbeat: Any = None

    @classmethod
    def from_settings(cls, settings: Any, local_root: str | None) -> ServiceMetadata:
        """The service the settings name (HEADWATER_SERVICE_URL; the token from
        HEADWATER_SERVICE_TOKEN or the settings file); see headwater.stores."""
        if not settings.service_url:
            raise MetadataError(
                "the metadata service is selected but no URL is set: set HEADWATER_SERVICE_URL "
                "or run `headwater configure --service-url URL`"
            )
        return cls(settings.service_url, token=settings.service_token)

    def __repr__(self) -> str:
        return f"ServiceMetadata({self.url!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "token_setting": self.token_setting}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"], token_setting=state["token_setting"])  # type: ignore[misc]

    def __enter__(self) -> ServiceMetadata:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop renewing leases and close this process's connection (reopened on demand)."""
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self._service.close()

    # --- batches ------------------------------------------------------------------------------

    def _in_batch(self) -> bool:
        return self._batch_owner == (os.getpid(), _thread.get_ident())

    def batch(self) -> Any:
        """``with store.batch():`` this thread's writes inside are sent together when the block
        ends and applied in one transaction (see the module docstring)."""
        return _Batch(self)

    def _write(self, op: str, args: dict[str, Any]) -> Any:
        """Queue a write inside a batch, else send it."""
        if self._in_batch():
            self._batch_ops.append({"op": op, "args": args})
            if len(self._batch_ops) >= MAX_BATCH_OPS:
                self._flush()
            return None
        return self._service.call("POST", op, body=args)

    def _flush(self) -> None:
        ops, self._batch_ops = self._batch_ops, []
        if not ops:
            return
        answer = self._service.call("POST", "batch", body={"ops": ops})
        if answer.get("error"):
            raise error_from(answer["error"]["status"], answer["error"])

    def _now(self) -> None:
        """Before a call that cannot be queued: send what the batch holds."""
        if self._batch_ops and self._in_batch():
            self._flush()

    # --- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        flow: str,
        user: str,
        tags: Sequence[str] = (),
        system_tags: Sequence[str] = (),
        origin_run_id: str | None = None,
        held: bool = False,
        run_id: str | None = None,
    ) -> RunRecord:
        """Register the flow if new and allocate the next run id (or use ``run_id``);
        status RUNNING. The run belongs to the token's user, whatever ``user`` says."""
        check_name("flow name", flow)
        user_tags = validate_user_tags(tags)
        check_user_tag_count(user_tags)
        sys_tags = check_system_tags(system_tags)
        if run_id is not None:
            run_id = check_name("run id", str(run_id))
        body: dict[str, Any] = {
            "flow": flow,
            "tags": user_tags,
            "system_tags": sys_tags,
            "origin_run_id": origin_run_id,
            "run_id": run_id,
        }
        lease = None
        if held:
            from headwater.metadata_store.run_heartbeat import lease_seconds

            lease = body["lease_s"] = lease_seconds()
        self._now()
        answer = self._service.call("POST", "create_run", body=body)
        run = wire.run_from(answer["run"])
        if lease is not None and answer.get("created"):
            if self._heartbeat is None:
                from headwater.metadata_store.run_heartbeat import Heartbeat

                self._heartbeat = Heartbeat(self._renew)
            self._heartbeat.hold(flow, run.run_id, lease)
        return run

    def _renew(self, flow: str, run_id: str) -> None:
        from headwater.metadata_store.run_heartbeat import lease_seconds

        body = {"flow": flow, "run_id": run_id}
        self._service.call("POST", "heartbeat", body=body, retry_s=lease_seconds() / 3)

    def set_run_status(self, flow: str, run_id: str, status: RunStatus) -> None:
        """Set a run's status; any status but RUNNING also sets finished_at."""
        status = coerce(RunStatus, status)
        self._write("set_run_status", {"flow": flow, "run_id": run_id, "status": status.value})
        if status is not RunStatus.RUNNING and self._heartbeat is not None:
            self._heartbeat.release(flow, run_id)

    # --- tasks and attempts -------------------------------------------------------------------

    def create_task(
        self,
        flow: str,
        run_id: str,
        step: str,
        parents: Sequence[str] = (),
        foreach_index: int | None = None,
        origin_pathspec: str | None = None,
        task_id: str | None = None,
    ) -> TaskRecord:
        """Register a task (and its step, on first use); allocates the next task id of the run
        unless ``task_id`` is given. Inside a batch, with a ``task_id``, the record returned is
        built here (as the service will store it, unless the task existed already)."""
        check_name("step name", step)
        parent_list = check_parents(parents)
        if origin_pathspec is not None:
            check_pathspec("origin pathspec", origin_pathspec)
        if task_id is not None:
            task_id = check_name("task id", str(task_id))
        args = {
            "flow": flow,
            "run_id": run_id,
            "step": step,
            "parents": list(parent_list),
            "foreach_index": foreach_index,
            "origin_pathspec": origin_pathspec,
            "task_id": task_id,
        }
        if task_id is not None and self._in_batch():
            self._write("create_task", args)
            return TaskRecord(
                flow, run_id, step, task_id, TaskStatus.RUNNING, time.time(), None, 0, None,
                parent_list, foreach_index, origin_pathspec,
            )  # fmt: skip
        self._now()
        return wire.task_from(self._service.call("POST", "create_task", body=args))

    def start_attempt(self, flow: str, run_id: str, step: str, task_id: str, attempt: int) -> None:
        check_attempt(attempt)
        self._write(
            "start_attempt",
            {"flow": flow, "run_id": run_id, "step": step, "task_id": task_id, "attempt": attempt},
        )

    def finish_attempt(
        self,
        flow: str,
        run_id: str,
        step: str,
        task_id: str,
        attempt: int,
        status: TaskStatus,
        exception: str | None = None,
        traceback: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Close an attempt. SUCCEEDED also marks the task succeeded (successful_attempt,
        finished_at). ``metadata`` entries are stored as task metadata of that attempt."""
        check_attempt(attempt)
        status = coerce(TaskStatus, status)
        if status is TaskStatus.RUNNING:
            raise MetadataError("finish_attempt needs a final status: succeeded or failed")
        args = {
            "flow": flow,
            "run_id": run_id,
            "step": step,
            "task_id": task_id,
            "attempt": attempt,
            "status": status.value,
            "exception": exception,
            "traceback": traceback,
            "metadata": {str(k): str(v) for k, v in (metadata or {}).items()},
        }
        self._write("finish_attempt", args)

    def finish_task(
        self, flow: str, run_id: str, step: str, task_id: str, status: TaskStatus
    ) -> None:
        """Set the final status of a task (e.g. FAILED once retries are exhausted)."""
        status = coerce(TaskStatus, status)
        args = {"flow": flow, "run_id": run_id, "step": step, "task_id": task_id}
        self._write("finish_task", {**args, "status": status.value})

    def add_task_metadata(
        self,
        flow: str,
        run_id: str,
        step: str,
        task_id: str,
        attempt: int,
        entries: Mapping[str, str],
    ) -> None:
        check_attempt(attempt)
        args = {"flow": flow, "run_id": run_id, "step": step, "task_id": task_id}
        entries_json = {str(k): str(v) for k, v in entries.items()}
        self._write("add_task_metadata", {**args, "attempt": attempt, "entries": entries_json})

    # --- tags -------------------------------------------------------------------------------

    def add_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Add user tags (validated with headwater.core.tags); returns the updated run."""
        return self.replace_tags(flow, run_id, (), tags)

    def remove_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Remove user tags; removing a system tag raises TagError."""
        return self.replace_tags(flow, run_id, tags, ())

    def replace_tags(
        self, flow: str, run_id: str, remove: Iterable[str], add: Iterable[str]
    ) -> RunRecord:
        """Remove then add, atomically."""
        body = {
            "flow": flow,
            "run_id": run_id,
            "add": validate_user_tags(add),
            "remove": check_tags_to_remove(remove),
        }
        self._now()
        return wire.run_from(self._service.call("POST", "update_tags", body=body))


class _Batch:
    """The context manager :meth:`ServiceMetadata.batch` returns."""

    __slots__ = ("_store", "_mine")

    def __init__(self, store: ServiceMetadata) -> None:
        self._store = store

    def __enter__(self) -> None:
        s = self._store
        me = (os.getpid(), _thread.get_ident())
        self._mine = s._batch_owner is None or s._batch_owner == me or s._batch_owner[0] != me[0]
        if not self._mine:  # another thread's batch is open: this one's writes go at once
            return
        if s._batch_owner != me:
            s._batch_owner, s._batch_depth, s._batch_ops = me, 0, []
        s._batch_depth += 1

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        s = self._store
        if not self._mine:
            return
        s._batch_depth -= 1
        if s._batch_depth:
            return
        try:
            s._flush()  # also when the block raised: the writes made before are kept
        finally:
            s._batch_owner = None
            s._batch_ops = []
