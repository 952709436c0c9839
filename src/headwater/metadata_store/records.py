"""Records the metadata layer stores: runs, steps, tasks, attempts, task metadata."""

from __future__ import annotations

import enum

from headwater.record import Record


class RunStatus(str, enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"  # the end step succeeded
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # Ctrl-C or the runtime was stopped


class TaskStatus(str, enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FlowRecord(Record):
    flow: str
    created_at: float  # epoch seconds


class RunRecord(Record):
    flow: str
    run_id: str
    user: str
    status: RunStatus
    created_at: float
    finished_at: float | None
    tags: tuple[str, ...]  # user tags, in the order they were added
    system_tags: tuple[str, ...]
    origin_run_id: str | None = None

    @property
    def all_tags(self) -> frozenset[str]:
        return frozenset(self.tags) | frozenset(self.system_tags)


class StepRecord(Record):
    flow: str
    run_id: str
    step: str
    created_at: float


class TaskRecord(Record):
    flow: str
    run_id: str
    step: str
    task_id: str
    status: TaskStatus
    created_at: float
    finished_at: float | None
    attempts: int  # number of attempts started so far
    successful_attempt: int | None  # the attempt that succeeded, if any
    parents: tuple[str, ...]  # task pathspecs "Flow/run/step/task" of the inputs
    foreach_index: int | None = None  # innermost foreach index, if inside a foreach
    origin_pathspec: str | None = None  # set when the task was cloned by resume

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}/{self.step}/{self.task_id}"


class AttemptRecord(Record):
    flow: str
    run_id: str
    step: str
    task_id: str
    attempt: int
    status: TaskStatus
    started_at: float
    finished_at: float | None
    exception: str | None  # "Type: message" headline when the attempt failed
    traceback: str | None


class MetadataEntry(Record):
    field: str
    value: str
    type: str
    attempt: int
    created_at: float
