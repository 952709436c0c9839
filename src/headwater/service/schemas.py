"""Request and response bodies of the metadata service, as pydantic models (they make the
OpenAPI spec and check what clients send). Records go out as objects named like the fields of
headwater.metadata_store.records; a body never names a user: the token does."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BATCH_OPS = 5000  # the client sends at most 500 at a time


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunKey(_Body):
    flow: str
    run_id: str


class TaskKey(_Body):
    flow: str
    run_id: str
    step: str
    task_id: str


class CreateRun(_Body):
    flow: str
    tags: list[str] = []
    system_tags: list[str] = []
    origin_run_id: str | None = None
    run_id: str | None = None
    lease_s: float | None = None  # the run is held: its creator renews the lease (heartbeat)


class SetRunStatus(RunKey):
    status: Literal["running", "completed", "failed", "interrupted"]


class Heartbeat(RunKey):
    pass


class CreateTask(_Body):
    flow: str
    run_id: str
    step: str
    parents: list[str] = []
    foreach_index: int | None = None
    origin_pathspec: str | None = None
    task_id: str | None = None


class StartAttempt(TaskKey):
    attempt: int


class FinishAttempt(TaskKey):
    attempt: int
    status: Literal["succeeded", "failed"]
    exception: str | None = None
    traceback: str | None = None
    metadata: dict[str, str] = {}


class FinishTask(TaskKey):
    status: Literal["running", "succeeded", "failed"]


class AddTaskMetadata(TaskKey):
    attempt: int
    entries: dict[str, str]


class UpdateTags(RunKey):
    remove: list[str] = []
    add: list[str] = []


class BatchOp(_Body):
    op: Literal[
        "set_run_status",
        "create_task",
        "start_attempt",
        "finish_attempt",
        "finish_task",
        "add_task_metadata",
    ]
    args: dict


class Batch(_Body):
    ops: list[BatchOp] = Field(max_length=MAX_BATCH_OPS)


# --- responses (documentation: the endpoints send these shapes as they are) ---------------------


class FlowOut(BaseModel):
    flow: str
    created_at: float


class RunOut(BaseModel):
    flow: str
    run_id: str
    user: str
    status: str
    created_at: float
    finished_at: float | None
    tags: list[str]
    system_tags: list[str]
    origin_run_id: str | None


class CreatedRun(BaseModel):
    run: RunOut
    created: bool  # False: a run with that explicit id existed already


class StepOut(BaseModel):
    flow: str
    run_id: str
    step: str
    created_at: float


class TaskOut(BaseModel):
    flow: str
    run_id: str
    step: str
    task_id: str
    status: str
    created_at: float
    finished_at: float | None
    attempts: int
    successful_attempt: int | None
    parents: list[str]
    foreach_index: int | None
    origin_pathspec: str | None


class AttemptOut(BaseModel):
    flow: str
    run_id: str
    step: str
    task_id: str
    attempt: int
    status: str
    started_at: float
    finished_at: float | None
    exception: str | None
    traceback: str | None


class MetadataOut(BaseModel):
    field: str
    value: str
    type: str
    attempt: int
    created_at: float


class StepMetadataOut(BaseModel):
    task_id: str
    attempt: int
    value: str


class ErrorOut(BaseModel):
    error: str  # a one-line headline: what is wrong and what to do
    kind: str  # the headwater exception class: MetadataError, TagError, NotRunOwner, ...


class BatchError(ErrorOut):
    status: int
    index: int  # the failing write; those before it were applied, none after it


class BatchOut(BaseModel):
    results: list[object]
    error: BatchError | None


class HeartbeatOut(BaseModel):
    status: str | None  # the run's status; a run no longer running keeps its status


class WhoAmI(BaseModel):
    user: str


class Health(BaseModel):
    ok: bool
    schema_version: int
