"""``Run('Flow/run')``: one execution of a flow, its steps, tags and end result."""

from __future__ import annotations

from headwater.client.base import InRun, split_exact, steps_hint, to_datetime
from headwater.client.namespaces import UNSET
from headwater.client.provider import Connection
from headwater.exceptions import IndexNotFound, ObjectNotFound
from headwater.metadata_store.records import RunStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import datetime as _dt
    from collections.abc import Iterable, Iterator
    from typing import Any

END_STEP = "end"


def _tag_list(tags: str | Iterable[str]) -> list[str]:
    """One tag or an iterable of tags, as a list (a non-text tag is left for the tag rules to
    refuse with a clear message)."""
    if isinstance(tags, str):
        return [tags]
    try:
        return list(tags)
    except TypeError:  # not iterable: one (bad) tag
        return [tags]  # type: ignore[list-item]


class Run(InRun):
    """A run: ``.data`` (the end task's artifacts), ``.successful``, ``.finished``, tags,
    ``run[step_name]``; iterating gives its steps, the last one to start first."""

    _SHAPE = "Flow/run"

    def __init__(
        self,
        pathspec: str,
        _namespace_check: bool = True,
        _current_namespace: Any = UNSET,
        *,
        _conn: Connection | None = None,
    ) -> None:
        self._init_common(split_exact(pathspec, self._SHAPE), _conn)
        self._run_record  # noqa: B018 - raises ObjectNotFound for an unknown run
        if _namespace_check:
            self._check_namespace(_current_namespace)

    @classmethod
    def _make(cls, record: Any, conn: Connection, parent: Any = None) -> Run:
        obj = cls.__new__(cls)
        obj._init_common([record.flow, record.run_id], conn)
        obj._run_rec = record
        obj._parent_obj = parent
        return obj

    def _reset_caches(self) -> None:
        super()._reset_caches()
        self._steps_cache: list[Any] | None = None
        self._end: Any = UNSET
        self._parent_obj: Any = None

    # --- steps --------------------------------------------------------------------------------

    @property
    def _step_records(self) -> list[Any]:
        if self._steps_cache is None:
            self._steps_cache = list(self._meta.list_steps(self._parts[0], self._parts[1]))
        return self._steps_cache

    def _step(self, record: Any) -> Any:
        from headwater.client.step import Step

        return Step._make(record, self._conn, run_record=self._run_record, parent=self)

    def steps(self, *tags: str) -> Iterator[Any]:
        """The run's steps, the last one to start first (private ``_`` steps hidden); none
        unless the run carries every tag in ``tags``."""
        if not all(t in self.tags for t in tags):
            return
        for rec in reversed(self._step_records):
            if not rec.step.startswith("_"):
                yield self._step(rec)

    def __iter__(self) -> Iterator[Any]:
        return self.steps()

    def __getitem__(self, step_name: str) -> Any:
        for rec in self._step_records:
            if rec.step == step_name:
                return self._step(rec)
        raise ObjectNotFound(
            f"step {step_name!r} not found in run {self.pathspec}: "
            + steps_hint(step_name, [r.step for r in self._step_records])
        )

    def __contains__(self, step_name: object) -> bool:
        return any(r.step == step_name for r in self._step_records)

    # --- end task -----------------------------------------------------------------------------

    def _end_step_name(self) -> str | None:
        steps = [r.step for r in self._step_records if not r.step.startswith("_")]
        if not steps:
            return None
        if END_STEP in steps:
            return END_STEP
        last = steps[-1]  # an end step with another name (@step(end=True)) runs last
        if self._run_record.status is RunStatus.COMPLETED:
            return last
        from headwater.core.ids import AttemptPath
        from headwater.core.splits import TransitionKind

        flow, run_id = self._parts[0], self._parts[1]
        for task in self._meta.list_tasks(flow, run_id, last):
            attempt = task.successful_attempt
            if attempt is None:
                attempt = max(task.attempts - 1, 0)
            try:
                index = self._ds.read_index(AttemptPath(flow, run_id, last, task.task_id, attempt))
            except IndexNotFound:
                continue
            transition = index.attrs.get("transition") or {}
            if transition.get("kind") == TransitionKind.END:
                return last
        return None

    @property
    def end_task(self) -> Any:
        """The task of the end step, or None when the run has not reached it."""
        if self._end is UNSET:
            self._end = None
            name = self._end_step_name()
            if name is not None:
                tasks = self._meta.list_tasks(self._parts[0], self._parts[1], name)
                if tasks:
                    from headwater.client.task import Task

                    self._end = Task._make(tasks[-1], self._conn, run_record=self._run_record)
        return self._end

    @property
    def data(self) -> Any:
        """The end task's artifacts (``run.data.x``), or None when the run has no end task."""
        end = self.end_task
        return None if end is None else end.data

    @property
    def code(self) -> Any:
        """The run's code package (``.tarball``, ``.flowspec``, ``.path``, ``.extract(dir)``),
        or None when the flow was not defined in a file (or ran with an older headwater)."""
        from headwater.core.ids import params_path

        flow, run_id = self._parts[0], self._parts[1]
        try:
            index = self._ds.read_index(params_path(flow, run_id))
        except IndexNotFound:
            return None
        key = index.attrs.get("code_package")
        if not key:
            return None
        from headwater.datastore.code_package import CodePackage

        data = self._ds.load_package(flow, key)
        return CodePackage(data, f"{self._ds.url}/{flow}/packages/{key}.tgz")

    # --- status -------------------------------------------------------------------------------

    @property
    def successful(self) -> bool:
        """True when the run completed: its end step succeeded."""
        return self._run_record.status is RunStatus.COMPLETED

    @property
    def finished(self) -> bool:
        """True when the end step has finished (successfully or not)."""
        if self.successful:
            return True
        end = self.end_task
        return end is not None and end.finished

    @property
    def finished_at(self) -> _dt.datetime | None:
        rec = self._run_record
        if rec.status is RunStatus.COMPLETED and rec.finished_at is not None:
            return to_datetime(rec.finished_at)
        end = self.end_task
        return None if end is None else end.finished_at

    @property
    def created_at(self) -> _dt.datetime | None:
        return to_datetime(self._run_record.created_at)

    @property
    def status(self) -> str:
        """The run's status: running, completed, failed or interrupted."""
        return self._run_record.status.value

    @property
    def user(self) -> str:
        return self._run_record.user

    @property
    def origin_pathspec(self) -> str | None:
        """``Flow/run`` of the run this one resumed, or None."""
        origin = self._run_record.origin_run_id
        return None if origin is None else f"{self._parts[0]}/{origin}"

    @property
    def parent(self) -> Any:
        if self._parent_obj is None:
            from headwater.client.flow import Flow

            self._parent_obj = Flow(self._parts[0], _namespace_check=False, _conn=self._conn)
        return self._parent_obj

    # --- tags ---------------------------------------------------------------------------------

    def add_tag(self, tag: str | Iterable[str]) -> None:
        """Add a user tag (or several) to the run."""
        self.add_tags(_tag_list(tag))

    def add_tags(self, tags: Iterable[str]) -> None:
        self._run_rec = self._meta.add_tags(self._parts[0], self._parts[1], _tag_list(tags))

    def remove_tag(self, tag: str | Iterable[str]) -> None:
        """Remove a user tag (or several); system tags cannot be removed."""
        self.remove_tags(_tag_list(tag))

    def remove_tags(self, tags: Iterable[str]) -> None:
        self._run_rec = self._meta.remove_tags(self._parts[0], self._parts[1], _tag_list(tags))

    def replace_tag(self, tag_to_remove: str, tag_to_add: str) -> None:
        """Remove one user tag and add another, atomically."""
        self.replace_tags(_tag_list(tag_to_remove), _tag_list(tag_to_add))

    def replace_tags(self, tags_to_remove: Iterable[str], tags_to_add: Iterable[str]) -> None:
        """Remove some user tags then add others, atomically; at least one tag to remove
        or add."""
        tags_to_remove, tags_to_add = _tag_list(tags_to_remove), _tag_list(tags_to_add)
        if not tags_to_remove and not tags_to_add:
            from headwater.exceptions import TagError

            raise TagError("replace_tags needs tags to remove or to add: give at least one")
        self._run_rec = self._meta.replace_tags(
            self._parts[0], self._parts[1], _tag_list(tags_to_remove), _tag_list(tags_to_add)
        )
