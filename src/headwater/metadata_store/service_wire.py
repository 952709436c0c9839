"""Records as the metadata service sends them: JSON objects named like the records' fields
(statuses as their words, tuples as arrays). The server encodes with ``record._asdict()``;
the client decodes here."""

from __future__ import annotations

from headwater.metadata_store.records import (
    AttemptRecord,
    FlowRecord,
    MetadataEntry,
    RunRecord,
    RunStatus,
    StepMetadataEntry,
    StepRecord,
    TaskRecord,
    TaskStatus,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def flow_from(d: dict[str, Any]) -> FlowRecord:
    return FlowRecord(d["flow"], d["created_at"])


def run_from(d: dict[str, Any]) -> RunRecord:
    return RunRecord(
        d["flow"],
        d["run_id"],
        d["user"],
        RunStatus(d["status"]),
        d["created_at"],
        d["finished_at"],
        tuple(d["tags"]),
        tuple(d["system_tags"]),
        d["origin_run_id"],
    )


def step_from(d: dict[str, Any]) -> StepRecord:
    return StepRecord(d["flow"], d["run_id"], d["step"], d["created_at"])


def task_from(d: dict[str, Any]) -> TaskRecord:
    return TaskRecord(
        d["flow"],
        d["run_id"],
        d["step"],
        d["task_id"],
        TaskStatus(d["status"]),
        d["created_at"],
        d["finished_at"],
        d["attempts"],
        d["successful_attempt"],
        tuple(d["parents"]),
        d["foreach_index"],
        d["origin_pathspec"],
    )


def attempt_from(d: dict[str, Any]) -> AttemptRecord:
    return AttemptRecord(
        d["flow"],
        d["run_id"],
        d["step"],
        d["task_id"],
        d["attempt"],
        TaskStatus(d["status"]),
        d["started_at"],
        d["finished_at"],
        d["exception"],
        d["traceback"],
    )


def entry_from(d: dict[str, Any]) -> MetadataEntry:
    return MetadataEntry(d["field"], d["value"], d["type"], d["attempt"], d["created_at"])


def step_entry_from(d: dict[str, Any]) -> StepMetadataEntry:
    return StepMetadataEntry(d["task_id"], d["attempt"], d["value"])


def maybe(decode: Any, value: Any) -> Any:
    return None if value is None else decode(value)
