"""Artifacts of a task: ``DataArtifact`` (one value and its facts), ``task.data`` (values by
attribute) and ``task.artifacts`` (DataArtifacts by attribute).

Nothing here loads a value before it is asked for: listing names reads only the task's artifact
index (once, cached on the Task), and ``task.data.x`` reads x's blob alone.
"""

from __future__ import annotations

from headwater.client.base import InRun, split_exact
from headwater.client.namespaces import UNSET
from headwater.client.provider import Connection
from headwater.exceptions import ArtifactNotFound, ObjectNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import datetime as _dt
    from collections.abc import Iterator
    from typing import Any

    from headwater.client.task import Task


def is_private(name: str) -> bool:
    return name.startswith("_")


class DataArtifact(InRun):
    """One artifact of one task attempt: ``.data`` (loaded on access), ``.sha`` (its content
    key), ``.size`` (serialized bytes), ``.type``, ``.created_at``."""

    _SHAPE = "Flow/run/step/task/artifact"
    _task_obj: Task | None  # set by _reset_caches, then by __init__ or on first use
    _ref_cache: Any

    def __init__(
        self,
        pathspec: str,
        attempt: int | None = None,
        _namespace_check: bool = True,
        _current_namespace: Any = UNSET,
        *,
        _conn: Connection | None = None,
    ) -> None:
        from headwater.client.task import Task

        parts = split_exact(pathspec, self._SHAPE)
        task = Task(
            "/".join(parts[:4]),
            attempt=attempt,
            _namespace_check=False,
            _conn=_conn,
        )
        self._init_common(parts, task._conn, attempt)
        self._task_obj = task
        if _namespace_check:
            self._check_namespace(_current_namespace)
        self._ref  # noqa: B018 - raises ObjectNotFound for an unknown artifact

    @classmethod
    def _make(cls, task: Any, name: str, ref: Any) -> DataArtifact:
        obj = cls.__new__(cls)
        obj._init_common([*task.path_components, name], task._conn, task._attempt)
        obj._task_obj = task
        obj._ref_cache = ref
        return obj

    def _reset_caches(self) -> None:
        super()._reset_caches()
        self._task_obj = None
        self._ref_cache = None

    @property
    def parent(self) -> Any:
        if self._task_obj is None:
            from headwater.client.task import Task

            self._task_obj = Task(
                "/".join(self._parts[:4]),
                attempt=self._attempt,
                _namespace_check=False,
                _conn=self._conn,
            )
        return self._task_obj

    @property
    def _run_record(self) -> Any:
        return self.parent._run_record

    @property
    def _ref(self) -> Any:
        if self._ref_cache is None:
            self._ref_cache = self.parent._artifact_ref(self.id)
        return self._ref_cache

    @property
    def data(self) -> Any:
        """The value, read from the datastore on each access."""
        return self._ds.load_value(self._parts[0], self._ref.key)

    @property
    def sha(self) -> str:
        """The content key of the value: equal values have equal keys."""
        return self._ref.key

    @property
    def size(self) -> int:
        """Serialized size in bytes (before compression)."""
        return self._ref.size

    @property
    def type(self) -> str:
        """``module.QualName`` of the value's type."""
        return self._ref.type

    @property
    def created_at(self) -> _dt.datetime | None:
        """When the task attempt that holds it finished (else when the task started)."""
        task = self.parent
        return task.finished_at or task.created_at

    @property
    def finished_at(self) -> _dt.datetime | None:
        return self.created_at

    def __iter__(self) -> Iterator[Any]:
        return iter(())


class TaskData:
    """``task.data``: artifact values by attribute (``task.data.x``), loaded one at a time on
    access; ``"x" in task.data``. Private (``_``) names are left out: use ``task["_x"]``."""

    __slots__ = ("_task",)
    _task: Task

    def __init__(self, task: Any) -> None:
        object.__setattr__(self, "_task", task)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        task = self._task
        if is_private(name):
            if name in task._index.artifacts:
                raise ArtifactNotFound(
                    f"artifact {name!r} of {task.pathspec} is private: read it with "
                    f"task[{name!r}].data"
                )
            raise task._missing(name)
        return task._load(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("task.data is read-only")

    def __contains__(self, name: object) -> bool:
        return (
            isinstance(name, str) and not is_private(name) and name in self._task._index.artifacts
        )

    def _names(self) -> list[str]:
        return sorted(n for n in self._task._index.artifacts if not is_private(n))

    def __dir__(self) -> list[str]:
        return self._names()

    def __iter__(self) -> Iterator[str]:
        """Artifact names (public), sorted."""
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return f"<MetaflowData: {', '.join(self._names())}>"

    __str__ = __repr__

    def __getstate__(self) -> Any:
        return self._task

    def __setstate__(self, task: Any) -> None:
        object.__setattr__(self, "_task", task)


class TaskArtifacts:
    """``task.artifacts``: DataArtifact objects by attribute (``task.artifacts.x.sha``) and in
    iteration (public names, sorted); no value is loaded."""

    __slots__ = ("_task",)
    _task: Task

    def __init__(self, task: Any) -> None:
        object.__setattr__(self, "_task", task)

    def __getattr__(self, name: str) -> DataArtifact:
        if name.startswith("__"):
            raise AttributeError(name)
        task = self._task
        if name not in task._index.artifacts:
            raise task._missing(name)
        return task[name]

    def __getitem__(self, key: int | str) -> DataArtifact:
        if isinstance(key, int):
            return list(self)[key]
        try:
            return self._task[key]
        except ObjectNotFound:
            raise KeyError(key) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._task._index.artifacts

    def __iter__(self) -> Iterator[DataArtifact]:
        return iter(self._task)

    def __len__(self) -> int:
        return sum(1 for n in self._task._index.artifacts if not is_private(n))

    def __dir__(self) -> list[str]:
        return sorted(n for n in self._task._index.artifacts if not is_private(n))

    def __repr__(self) -> str:
        return f"MetaflowArtifacts({', '.join(self.__dir__())})"

    def __getstate__(self) -> Any:
        return self._task

    def __setstate__(self, task: Any) -> None:
        object.__setattr__(self, "_task", task)
