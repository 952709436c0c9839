"""The reads of the metadata service's client: flows, runs, steps, tasks, attempts, task
metadata and the token's user, each one GET request decoded by service_wire.

A name that cannot exist (see checks.is_valid_name) is answered here, with None or an empty
list, and no request. A read inside a batch first sends the writes the batch holds, so it sees
them.
"""

from __future__ import annotations

from headwater.metadata_store import service_wire as wire
from headwater.metadata_store.checks import coerce, is_valid_name
from headwater.metadata_store.records import RunStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable
    from typing import Any

    from headwater.metadata_store.records import (
        AttemptRecord,
        FlowRecord,
        MetadataEntry,
        RunRecord,
        StepMetadataEntry,
        StepRecord,
        TaskRecord,
    )
    from headwater.metadata_store.service_connection import ServiceConnection


class ServiceReads:
    """The read side of ServiceMetadata, which supplies ``_service`` (its connection) and the
    method below that raises NotImplementedError."""

    _service: ServiceConnection

    def _now(self) -> None:
        """Before a call that cannot be queued: send what the batch holds."""
        raise NotImplementedError

    def _get(self, name: str, query: list[tuple[str, Any]]) -> Any:
        self._now()
        return self._service.call("GET", name, query)

    def list_flows(self) -> list[FlowRecord]:
        return [wire.flow_from(d) for d in self._get("list_flows", [])]

    def get_flow(self, flow: str) -> FlowRecord | None:
        if not is_valid_name(flow):
            return None
        return wire.maybe(wire.flow_from, self._get("get_flow", [("flow", flow)]))

    def get_run(self, flow: str, run_id: str) -> RunRecord | None:
        if not (is_valid_name(flow) and is_valid_name(run_id)):
            return None
        return wire.maybe(wire.run_from, self._get("get_run", [("flow", flow), ("run_id", run_id)]))

    def _runs_query(
        self, flow: str, tags: Iterable[str], status: Any = None, limit: int | None = None
    ) -> list[tuple[str, Any]]:
        if isinstance(tags, str):
            tags = (tags,)
        query: list[tuple[str, Any]] = [("flow", flow)]
        query += [("tag", t) for t in dict.fromkeys(tags)]
        if status is not None:
            query.append(("status", coerce(RunStatus, status).value))
        if limit is not None:
            query.append(("limit", int(limit)))
        return query

    def list_runs(
        self,
        flow: str,
        tags: Iterable[str] = (),
        limit: int | None = None,
        status: RunStatus | None = None,
    ) -> list[RunRecord]:
        """Runs carrying every tag in ``tags`` (user or system), newest first; with
        ``status``, only runs in that status."""
        query = self._runs_query(flow, tags, status, limit)
        if not is_valid_name(flow) or (limit is not None and limit <= 0):
            return []
        return [wire.run_from(d) for d in self._get("list_runs", query)]

    def latest_run(self, flow: str, tags: Iterable[str] = ()) -> RunRecord | None:
        if not is_valid_name(flow):
            return None
        return wire.maybe(wire.run_from, self._get("latest_run", self._runs_query(flow, tags)))

    def latest_successful_run(self, flow: str, tags: Iterable[str] = ()) -> RunRecord | None:
        """Newest run with status COMPLETED carrying every tag in ``tags``."""
        if not is_valid_name(flow):
            return None
        answer = self._get("latest_successful_run", self._runs_query(flow, tags))
        return wire.maybe(wire.run_from, answer)

    def list_steps(self, flow: str, run_id: str) -> list[StepRecord]:
        """Steps of a run in the order they first ran."""
        if not (is_valid_name(flow) and is_valid_name(run_id)):
            return []
        answer = self._get("list_steps", [("flow", flow), ("run_id", run_id)])
        return [wire.step_from(d) for d in answer]

    def list_tasks(self, flow: str, run_id: str, step: str | None = None) -> list[TaskRecord]:
        """Tasks of a run (or of one step), in task id order."""
        if not (is_valid_name(flow) and is_valid_name(run_id)):
            return []
        if step is not None and not is_valid_name(step):
            return []
        answer = self._get("list_tasks", [("flow", flow), ("run_id", run_id), ("step", step)])
        return [wire.task_from(d) for d in answer]

    def _task_query(
        self, flow: str, run_id: str, step: str, task_id: str
    ) -> list[tuple[str, Any]] | None:
        if not all(is_valid_name(n) for n in (flow, run_id, step, task_id)):
            return None
        return [("flow", flow), ("run_id", run_id), ("step", step), ("task_id", task_id)]

    def get_task(self, flow: str, run_id: str, step: str, task_id: str) -> TaskRecord | None:
        query = self._task_query(flow, run_id, step, task_id)
        return None if query is None else wire.maybe(wire.task_from, self._get("get_task", query))

    def list_attempts(self, flow: str, run_id: str, step: str, task_id: str) -> list[AttemptRecord]:
        query = self._task_query(flow, run_id, step, task_id)
        if query is None:
            return []
        return [wire.attempt_from(d) for d in self._get("list_attempts", query)]

    def get_task_metadata(
        self, flow: str, run_id: str, step: str, task_id: str
    ) -> list[MetadataEntry]:
        """Metadata entries of every attempt of a task, in the order they were stored."""
        query = self._task_query(flow, run_id, step, task_id)
        if query is None:
            return []
        return [wire.entry_from(d) for d in self._get("get_task_metadata", query)]

    def step_metadata(
        self, flow: str, run_id: str, step: str, field: str
    ) -> list[StepMetadataEntry]:
        if not all(is_valid_name(n) for n in (flow, run_id, step)):
            return []
        query = [("flow", flow), ("run_id", run_id), ("step", step), ("field", field)]
        return [wire.step_entry_from(d) for d in self._get("step_metadata", query)]

    def whoami(self) -> str:
        """The user the token belongs to (the user of the runs this client creates)."""
        return self._get("whoami", [])["user"]
