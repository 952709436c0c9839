"""``Task('Flow/run/step/task', attempt=None)``: one task, shown at one of its attempts.

By default the attempt shown is the one that succeeded, else the latest. The attempt's artifact
index is read once, on first use, and cached on the object; each value is loaded only when it
is asked for.
"""

from __future__ import annotations

from headwater.client.artifacts import DataArtifact, TaskArtifacts, TaskData, is_private
from headwater.client.base import InRun, split_exact, to_datetime
from headwater.client.namespaces import UNSET
from headwater.client.provider import Connection
from headwater.core.ids import AttemptPath
from headwater.core.splits import foreach_frames, foreach_index
from headwater.core.suggest import did_you_mean
from headwater.datastore.records import TaskIndex
from headwater.exceptions import (
    ArtifactNotFound,
    ClientError,
    HeadwaterException,
    IndexNotFound,
    ObjectNotFound,
)
from headwater.metadata_store.records import TaskStatus
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import datetime as _dt
    from collections.abc import Iterator
    from typing import Any

LOG_STREAMS = ("stdout", "stderr")
_NAMES_SHOWN = 20


class Metadata(Record):
    """One task metadata entry (as Metaflow's client gives them)."""

    name: str
    value: str
    created_at: int  # epoch milliseconds
    type: str
    task: Any


def _check_attempt_arg(attempt: Any) -> int | None:
    if attempt is None:
        return None
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise ClientError(f"attempt must be an integer 0, 1, 2, ..., got {attempt!r}")
    return attempt


class Task(InRun):
    """One task: ``.data.x``, ``task["x"]``, ``.artifacts``, ``.successful``, ``.finished``,
    ``.exception``, ``.index``, ``.stdout``, ``.stderr``, ``.metadata``, parents and children.
    Iterating gives its public artifacts (DataArtifact objects), sorted by name."""

    _SHAPE = "Flow/run/step/task"

    def __init__(
        self,
        pathspec: str,
        attempt: int | None = None,
        _namespace_check: bool = True,
        _current_namespace: Any = UNSET,
        *,
        _conn: Connection | None = None,
    ) -> None:
        parts = split_exact(pathspec, self._SHAPE)
        self._init_common(parts, _conn, _check_attempt_arg(attempt))
        rec = self._record
        if attempt is not None and attempt >= max(rec.attempts, 1):
            raise ObjectNotFound(
                f"{self.pathspec} has no attempt {attempt}: it has attempts 0 to "
                f"{max(rec.attempts, 1) - 1}"
            )
        if _namespace_check:
            self._check_namespace(_current_namespace)

    @classmethod
    def _make(
        cls,
        record: Any,
        conn: Connection,
        run_record: Any = None,
        parent: Any = None,
        attempt: int | None = None,
    ) -> Task:
        obj = cls.__new__(cls)
        obj._init_common([record.flow, record.run_id, record.step, record.task_id], conn, attempt)
        obj._rec = record
        obj._run_rec = run_record
        obj._parent_obj = parent
        return obj

    def _reset_caches(self) -> None:
        super()._reset_caches()
        self._rec: Any = None
        self._index_cache: TaskIndex | None = None
        self._index_missing = False
        self._siblings: Any = None  # client.siblings.Siblings of a step iteration
        self._attempts_cache: list[Any] | None = None
        self._parent_obj: Any = None

    # --- records ------------------------------------------------------------------------------

    @property
    def _record(self) -> Any:
        if self._rec is None:
            rec = self._meta.get_task(*self._parts)
            if rec is None:
                self._run_record  # noqa: B018 - an unknown run is reported as such
                flow, run_id, step, task_id = self._parts
                raise ObjectNotFound(
                    f"task {task_id} not found in {flow}/{run_id}/{step}: list its tasks with "
                    f"Step('{flow}/{run_id}/{step}') or check the pathspec"
                )
            self._rec = rec
        return self._rec

    @property
    def current_attempt(self) -> int:
        """The attempt shown: the one asked for, else the successful one, else the latest."""
        if self._attempt is not None:
            return self._attempt
        rec = self._record
        if rec.successful_attempt is not None:
            return rec.successful_attempt
        return max(rec.attempts - 1, 0)

    @property
    def _path(self) -> AttemptPath:
        flow, run_id, step, task_id = self._parts
        return AttemptPath(flow, run_id, step, task_id, self.current_attempt)

    def _attempt_record(self) -> Any:
        if self._attempts_cache is None:
            self._attempts_cache = list(self._meta.list_attempts(*self._parts))
        wanted = self.current_attempt
        for rec in self._attempts_cache:
            if rec.attempt == wanted:
                return rec
        return None

    # --- artifacts ----------------------------------------------------------------------------

    @property
    def _index(self) -> TaskIndex:
        if self._index_cache is None and self._siblings is not None:
            self._siblings.read_indexes()
        if self._index_cache is None:
            try:
                self._index_cache = self._ds.read_index(self._path)
            except IndexNotFound:
                self._index_missing = True
                self._index_cache = TaskIndex(artifacts={})
        return self._index_cache

    def _missing_message(self, name: str) -> str:
        index = self._index
        if self._index_missing:
            return (
                f"{self!r} has no artifact {name!r}: attempt {self.current_attempt} saved no "
                "artifacts (it has not finished, or never ran)"
            )
        names = [n for n in sorted(index.artifacts) if not is_private(n)]
        shown = ", ".join(names[:_NAMES_SHOWN]) + (", ..." if len(names) > _NAMES_SHOWN else "")
        hint = did_you_mean(name, names)
        if hint:
            return f"{self!r} has no artifact {name!r}: {hint}"
        return f"{self!r} has no artifact {name!r}: " + (
            f"its artifacts are {shown}" if names else "it has no public artifacts"
        )

    def _missing(self, name: str) -> ArtifactNotFound:
        return ArtifactNotFound(self._missing_message(name))

    def _artifact_ref(self, name: str) -> Any:
        ref = self._index.artifacts.get(name)
        if ref is None:
            raise ObjectNotFound(self._missing_message(name))
        return ref

    def _load(self, name: str) -> Any:
        ref = self._index.artifacts.get(name)
        if ref is None:
            raise self._missing(name)
        if self._siblings is not None:
            return self._siblings.value(self, name, ref.key)
        return self._ds.load_value(self._parts[0], ref.key)

    @property
    def data(self) -> TaskData:
        """Artifact values by attribute: ``task.data.x`` loads x alone."""
        return TaskData(self)

    @property
    def artifacts(self) -> TaskArtifacts:
        """DataArtifact objects by attribute and in iteration; no value is loaded."""
        return TaskArtifacts(self)

    def artifact_names(self, private: bool = False) -> list[str]:
        """Names of the attempt's artifacts, sorted; private (``_``) ones only if asked."""
        return sorted(n for n in self._index.artifacts if private or not is_private(n))

    def __getitem__(self, name: str) -> DataArtifact:
        return DataArtifact._make(self, name, self._artifact_ref(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._index.artifacts

    def __iter__(self) -> Iterator[DataArtifact]:
        artifacts = self._index.artifacts
        for name in sorted(artifacts):
            if not is_private(name):
                yield DataArtifact._make(self, name, artifacts[name])

    # --- status -------------------------------------------------------------------------------

    @property
    def successful(self) -> bool:
        """True when the attempt shown succeeded."""
        rec = self._record
        if rec.successful_attempt is not None:
            return rec.successful_attempt == self.current_attempt
        return rec.status is TaskStatus.SUCCEEDED and rec.attempts == 0  # e.g. cloned

    @property
    def finished(self) -> bool:
        """True when the attempt shown has finished, successfully or not."""
        if self.successful:
            return True
        attempt = self._attempt_record()
        if attempt is not None:
            return attempt.status is not TaskStatus.RUNNING
        return self._record.status is not TaskStatus.RUNNING

    @property
    def finished_at(self) -> _dt.datetime | None:
        rec = self._record
        if self.successful and rec.finished_at is not None:
            return to_datetime(rec.finished_at)
        attempt = self._attempt_record()
        if attempt is not None:
            return to_datetime(attempt.finished_at)
        return to_datetime(rec.finished_at) if rec.status is not TaskStatus.RUNNING else None

    @property
    def created_at(self) -> _dt.datetime | None:
        return to_datetime(self._record.created_at)

    @property
    def exception(self) -> str | None:
        """The attempt's exception (``Type: message`` then the traceback), None if it did not
        fail."""
        if self.successful:
            return None
        attempt = self._attempt_record()
        if attempt is None or not (attempt.exception or attempt.traceback):
            return None
        parts = [p for p in (attempt.exception, attempt.traceback) if p]
        return "\n".join(p.rstrip("\n") for p in parts)

    @property
    def origin_pathspec(self) -> str | None:
        """The task this one was cloned from by ``resume``, or None."""
        return self._record.origin_pathspec

    @property
    def index(self) -> int | None:
        """The index of this task in its innermost foreach, or None outside a foreach."""
        rec = self._record
        if rec.foreach_index is not None:
            return rec.foreach_index
        return foreach_index(self._index.stack)

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        """``(index, num_splits, value)`` of each enclosing foreach, outermost first; value is
        None when the splitting task's data cannot be read."""
        out = []
        for frame in foreach_frames(self._index.stack):
            out.append((frame.index, frame.num_splits, self._split_value(frame)))
        return out

    def _split_value(self, frame: Any) -> Any:
        try:
            flow, run_id = self._parts[0], self._parts[1]
            path = AttemptPath(flow, run_id, frame.step, frame.task, frame.attempt)
            ref = self._ds.read_index(path).artifacts[frame.var or ""]
            return self._ds.load_value(flow, ref.key)[frame.index]
        except (HeadwaterException, KeyError, IndexError, TypeError, ValueError):
            return None

    @property
    def runtime_name(self) -> str | None:
        for tag in self.system_tags:
            if tag.startswith("runtime:"):
                return tag[len("runtime:") :]
        return None

    # --- logs ---------------------------------------------------------------------------------

    def log_bytes(self, stream: str) -> bytes:
        """The attempt's saved ``stdout`` or ``stderr``, as bytes; empty when there is none."""
        if stream not in LOG_STREAMS:
            raise ClientError(f"unknown log stream {stream!r}: use 'stdout' or 'stderr'")
        return self._ds.read_log(self._path, stream)

    @property
    def stdout(self) -> str:
        """What the attempt printed to standard output."""
        return self.log_bytes("stdout").decode("utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        """What the attempt printed to standard error."""
        return self.log_bytes("stderr").decode("utf-8", errors="replace")

    @property
    def stdout_size(self) -> int:
        return len(self.log_bytes("stdout"))

    @property
    def stderr_size(self) -> int:
        return len(self.log_bytes("stderr"))

    def loglines(
        self, stream: str, as_unicode: bool = True, meta_dict: Any = None
    ) -> Iterator[tuple[_dt.datetime | None, Any]]:
        """``(timestamp, line)`` for each line of ``stream``; the timestamp is None (lines are
        stored as printed)."""
        data = self.log_bytes(stream)
        for line in data.splitlines():
            yield None, (line.decode("utf-8", errors="replace") if as_unicode else line)

    # --- metadata and lineage -----------------------------------------------------------------

    @property
    def metadata(self) -> list[Metadata]:
        """Every metadata entry of every attempt, in the order they were stored."""
        return [
            Metadata(e.field, e.value, int(e.created_at * 1000), e.type, self)
            for e in self._meta.get_task_metadata(*self._parts)
        ]

    @property
    def metadata_dict(self) -> dict[str, str]:
        """Name -> value of the newest entry of each name."""
        return {m.name: m.value for m in sorted(self.metadata, key=lambda m: m.created_at)}

    @property
    def parent_tasks(self) -> Iterator[Task]:
        """The tasks whose results this task started from."""
        for pathspec in self._record.parents:
            yield Task(pathspec, _namespace_check=False, _conn=self._conn)

    @property
    def child_tasks(self) -> Iterator[Task]:
        """The tasks of the run that started from this task (one metadata query)."""
        me = self.pathspec
        flow, run_id = self._parts[0], self._parts[1]
        for rec in self._meta.list_tasks(flow, run_id):
            if me in rec.parents:
                yield Task._make(rec, self._conn, run_record=self._run_rec)

    @property
    def code(self) -> Any:
        """The code package the task ran (its run's; see ``Run.code``), or None."""
        from headwater.client.run import Run

        run = Run("/".join(self._parts[:2]), _namespace_check=False, _conn=self._conn)
        return run.code

    @property
    def parent(self) -> Any:
        if self._parent_obj is None:
            from headwater.client.step import Step

            self._parent_obj = Step(
                "/".join(self._parts[:3]), _namespace_check=False, _conn=self._conn
            )
        return self._parent_obj
