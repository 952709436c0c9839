"""``Step('Flow/run/step')``: the tasks one step of a run ran."""

from __future__ import annotations

from headwater.client.base import InRun, split_exact, steps_hint, to_datetime
from headwater.client.namespaces import UNSET
from headwater.client.provider import Connection
from headwater.exceptions import ObjectNotFound
from headwater.metadata_store.records import TaskStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import datetime as _dt
    from collections.abc import Iterator
    from typing import Any


class Step(InRun):
    """A step of a run: ``.task``, ``.tasks(*tags)``, ``step[task_id]``; iterating gives its
    tasks, newest first. The tasks are listed with one metadata query and carry their records,
    so reading an artifact of each costs one index read and one blob read per task."""

    _SHAPE = "Flow/run/step"

    def __init__(
        self,
        pathspec: str,
        _namespace_check: bool = True,
        _current_namespace: Any = UNSET,
        *,
        _conn: Connection | None = None,
    ) -> None:
        self._init_common(split_exact(pathspec, self._SHAPE), _conn)
        if _namespace_check:
            self._check_namespace(_current_namespace)  # also raises for an unknown run
        self._record  # noqa: B018 - raises ObjectNotFound for an unknown step

    @classmethod
    def _make(
        cls, record: Any, conn: Connection, run_record: Any = None, parent: Any = None
    ) -> Step:
        obj = cls.__new__(cls)
        obj._init_common([record.flow, record.run_id, record.step], conn)
        obj._rec = record
        obj._run_rec = run_record
        obj._parent_obj = parent
        return obj

    def _reset_caches(self) -> None:
        super()._reset_caches()
        self._rec: Any = None
        self._task_records: list[Any] | None = None
        self._parent_obj: Any = None

    @property
    def _record(self) -> Any:
        if self._rec is None:
            flow, run_id, name = self._parts
            steps = self._meta.list_steps(flow, run_id)
            for rec in steps:
                if rec.step == name:
                    self._rec = rec
                    break
            else:
                self._run_record  # noqa: B018 - an unknown run is reported as such
                raise ObjectNotFound(
                    f"step {name!r} not found in run {flow}/{run_id}: "
                    + steps_hint(name, [r.step for r in steps])
                )
        return self._rec

    # --- tasks --------------------------------------------------------------------------------

    @property
    def _tasks(self) -> list[Any]:
        if self._task_records is None:
            flow, run_id, name = self._parts
            self._task_records = list(self._meta.list_tasks(flow, run_id, name))
        return self._task_records

    def _task(self, record: Any) -> Any:
        from headwater.client.task import Task

        return Task._make(record, self._conn, run_record=self._run_record, parent=self)

    def tasks(self, *tags: str) -> Iterator[Any]:
        """The step's tasks, newest first; none unless the run carries every tag in ``tags``."""
        if not all(t in self.tags for t in tags):
            return
        records = list(reversed(self._tasks))
        ds = self._ds
        from headwater.client.siblings import Siblings

        if not Siblings.worth_it(ds, len(records)):
            for rec in records:
                yield self._task(rec)
            return
        tasks = [self._task(rec) for rec in records]
        siblings = Siblings(tasks, ds, self._meta)
        for task in tasks:
            task._siblings = siblings
        yield from tasks

    def control_tasks(self, *tags: str) -> Iterator[Any]:
        """The control tasks of a @parallel step (its gangs' task 0), newest first; none
        unless the run carries every tag in ``tags``."""
        for task in self.tasks(*tags):
            if task.metadata_dict.get("internal_task_type") == "control_task":
                yield task

    def __iter__(self) -> Iterator[Any]:
        return self.tasks()

    @property
    def task(self) -> Any:
        """A task of this step (the newest); handy when the step has one task. None if none."""
        for task in self.tasks():
            return task
        return None

    def __getitem__(self, task_id: str) -> Any:
        flow, run_id, name = self._parts
        rec = self._meta.get_task(flow, run_id, name, str(task_id))
        if rec is None:
            ids = [r.task_id for r in self._tasks]
            shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
            raise ObjectNotFound(
                f"task {task_id} not found in {self.pathspec}: "
                + (f"its tasks are {shown}" if ids else "the step has no task")
            )
        return self._task(rec)

    def __contains__(self, task_id: object) -> bool:
        if not isinstance(task_id, (str, int)):
            return False
        flow, run_id, name = self._parts
        return self._meta.get_task(flow, run_id, name, str(task_id)) is not None

    # --- facts --------------------------------------------------------------------------------

    @property
    def created_at(self) -> _dt.datetime | None:
        return to_datetime(self._record.created_at)

    @property
    def finished_at(self) -> _dt.datetime | None:
        """When the last of its tasks finished; None while any task has not finished."""
        tasks = self._tasks
        if not tasks or any(t.status is TaskStatus.RUNNING or t.finished_at is None for t in tasks):
            return None
        return to_datetime(max(t.finished_at for t in tasks))

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def origin_pathspec(self) -> str | None:
        """``Flow/run/step`` of this step in the run this one resumed (None if not resumed)."""
        run_origin = self.parent.origin_pathspec
        return None if run_origin is None else f"{run_origin}/{self._parts[2]}"

    def _graph_steps(self) -> dict[str, Any]:
        """The run's graph, by step (from what the run saved when it started)."""
        from headwater.core.ids import params_path
        from headwater.exceptions import IndexNotFound

        flow, run_id, _ = self._parts
        try:
            index = self._ds.read_index(params_path(flow, run_id))
        except IndexNotFound:
            return {}
        return ((index.attrs or {}).get("graph") or {}).get("steps") or {}

    def _related(self, key: str) -> Iterator[Step]:
        flow, run_id, name = self._parts
        ran = {r.step: r for r in self._meta.list_steps(flow, run_id)}
        for other in (self._graph_steps().get(name) or {}).get(key) or ():
            if other in ran and other != name:
                yield Step._make(ran[other], self._conn, self._run_rec)

    @property
    def parent_steps(self) -> Iterator[Step]:
        """The steps of the run that lead to this one in the flow's graph."""
        return self._related("in_funcs")

    @property
    def child_steps(self) -> Iterator[Step]:
        """The steps of the run this one leads to in the flow's graph (ones that ran)."""
        return self._related("out_funcs")

    @property
    def parent(self) -> Any:
        if self._parent_obj is None:
            from headwater.client.run import Run

            flow, run_id, _ = self._parts
            self._parent_obj = Run(f"{flow}/{run_id}", _namespace_check=False, _conn=self._conn)
        return self._parent_obj
