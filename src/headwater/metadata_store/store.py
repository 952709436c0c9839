"""The interface every metadata backend implements (SQLite now, the PostgreSQL service later).

Ids are strings. Run ids are allocated by the store, sequential per flow ("1", "2", ...), so
two runs started at the same instant never collide. Task ids are allocated by the store,
sequential per run. Times are epoch seconds (float). Every write is atomic and durable once
the call returns; readers in other processes see it at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

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
    from typing import Any, Protocol
else:  # interfaces only: at run time a plain base, and typing is never imported
    Protocol = object


class MetadataStore(Protocol):
    # --- writes used by the runtime --------------------------------------------------------
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
        """Register the flow if new and allocate the next run id; status RUNNING.

        ``run_id``: use this id instead of allocating one (a production scheduler names its
        runs); creating a run that exists already returns it unchanged (idempotent), so every
        task of a scheduled run may call this safely.

        ``held``: the calling process runs the run. Should it die before setting a final
        status, readers get the run as INTERRUPTED (and its unfinished tasks FAILED) rather
        than RUNNING forever."""
        ...

    def batch(self) -> Any:
        """A context manager: the writes made inside it become visible (and durable)
        together when it ends, each whole or undone. The runtime wraps each turn of its loop
        in one, so a thousand short tasks cost a thousand commits, not three thousand."""
        ...

    def set_run_status(self, flow: str, run_id: str, status: RunStatus) -> None:
        """Set a run's status; any status but RUNNING also sets finished_at."""
        ...

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
        unless ``task_id`` is given. Status RUNNING, attempts 0."""
        ...

    def start_attempt(
        self, flow: str, run_id: str, step: str, task_id: str, attempt: int
    ) -> None: ...

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
        ...

    def finish_task(
        self, flow: str, run_id: str, step: str, task_id: str, status: TaskStatus
    ) -> None:
        """Set the final status of a task (e.g. FAILED once retries are exhausted)."""
        ...

    def add_task_metadata(
        self,
        flow: str,
        run_id: str,
        step: str,
        task_id: str,
        attempt: int,
        entries: Mapping[str, str],
    ) -> None: ...

    # --- tags -------------------------------------------------------------------------------
    def add_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Add user tags (validated with headwater.core.tags); returns the updated run."""
        ...

    def remove_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Remove user tags; removing a system tag raises TagError."""
        ...

    def replace_tags(
        self, flow: str, run_id: str, remove: Iterable[str], add: Iterable[str]
    ) -> RunRecord:
        """Remove then add, atomically."""
        ...

    # --- reads --------------------------------------------------------------------------------
    def list_flows(self) -> list[FlowRecord]: ...

    def get_flow(self, flow: str) -> FlowRecord | None: ...

    def get_run(self, flow: str, run_id: str) -> RunRecord | None: ...

    def list_runs(
        self,
        flow: str,
        tags: Iterable[str] = (),
        limit: int | None = None,
        status: RunStatus | None = None,
    ) -> list[RunRecord]:
        """Runs carrying every tag in ``tags`` (user or system), newest first; with
        ``status``, only runs in that status."""
        ...

    def latest_run(self, flow: str, tags: Iterable[str] = ()) -> RunRecord | None: ...

    def latest_successful_run(self, flow: str, tags: Iterable[str] = ()) -> RunRecord | None:
        """Newest run with status COMPLETED carrying every tag in ``tags``."""
        ...

    def list_steps(self, flow: str, run_id: str) -> list[StepRecord]:
        """Steps of a run in the order they first ran."""
        ...

    def list_tasks(self, flow: str, run_id: str, step: str | None = None) -> list[TaskRecord]:
        """Tasks of a run (or of one step): numeric ids first, by number; other ids (named by
        a scheduler) by innermost foreach index, then id."""
        ...

    def get_task(self, flow: str, run_id: str, step: str, task_id: str) -> TaskRecord | None: ...

    def list_attempts(
        self, flow: str, run_id: str, step: str, task_id: str
    ) -> list[AttemptRecord]: ...

    def get_task_metadata(
        self, flow: str, run_id: str, step: str, task_id: str
    ) -> list[MetadataEntry]: ...

    def step_metadata(
        self, flow: str, run_id: str, step: str, field: str
    ) -> list[StepMetadataEntry]:
        """The value of metadata ``field`` for every task attempt of a step that recorded it,
        in the order they were stored: one question for a whole foreach step."""
        ...

    def close(self) -> None: ...
