"""Records the metadata layer stores: runs, steps, tasks, attempts, task metadata."""

from __future__ import annotations

from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator


class _StatusKind(type):
    """Iterating a status class gives its members, in the order they were declared."""

    _members: dict[str, Status]

    def __iter__(cls) -> Iterator[Status]:
        return iter(cls._members.values())


class Status(str, metaclass=_StatusKind):
    """A fixed set of status words, used like a ``(str, Enum)`` without importing enum (a few
    milliseconds of every client lookup): members are the class's upper-case attributes,
    ``Kind(word)`` returns the member (ValueError for an unknown word), members are str (they
    compare equal to their word, bind to SQL as text) with ``.value`` and ``.name``."""

    __slots__ = ()
    _members: dict[str, Status] = {}
    _names: dict[str, str] = {}

    def __init_subclass__(cls) -> None:
        words = {k: v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)}
        cls._members, cls._names = {}, {}
        for name, word in words.items():
            member = str.__new__(cls, word)
            cls._members[word] = member
            cls._names[word] = name
            setattr(cls, name, member)

    def __new__(cls, value: object) -> Status:
        member = cls._members.get(value) if isinstance(value, str) else None
        if member is None:
            raise ValueError(f"{value!r} is not a valid {cls.__name__}")
        return member

    @property
    def value(self) -> str:
        return str.__str__(self)

    @property
    def name(self) -> str:
        return self._names[self.value]

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (type(self), (self.value,))


if TYPE_CHECKING:  # pragma: no cover - type checkers see the statuses as a (str, Enum)
    import enum

    class _StatusBase(str, enum.Enum):
        pass

else:
    _StatusBase = Status


class RunStatus(_StatusBase):
    RUNNING = "running"
    COMPLETED = "completed"  # the end step succeeded
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # Ctrl-C or the runtime was stopped


class TaskStatus(_StatusBase):
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


class StepMetadataEntry(Record):
    """One task attempt's value of one metadata field, among a step's tasks."""

    task_id: str
    attempt: int
    value: str
