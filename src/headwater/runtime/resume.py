"""Resume: a new run that clones what the origin run finished and re-runs the rest.

A task of the new run is cloned when the origin run has a successful task of the same step,
reached from the same (cloned) parents at the same foreach index, and the step is not the one
the user asked to re-run. Cloning copies the task's index (keys only, no artifact bytes) and
shares its logs; no user code runs. Everything downstream of a re-run task runs again, because
its parents are new.
"""

from __future__ import annotations

from headwater.core.ids import AttemptPath
from headwater.core.splits import Stack, Transition
from headwater.datastore.records import TaskIndex
from headwater.metadata_store.records import TaskRecord, TaskStatus
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.datastore.store import Datastore
    from headwater.metadata_store.store import MetadataStore

_Key = tuple[str, tuple[str, ...], int | None]


class Cloned(Record):
    task_id: str
    transition: Transition


class Cloner:
    """Finds, for a task about to run, a finished origin task to clone instead."""

    def __init__(
        self,
        flow: str,
        run_id: str,
        origin_run_id: str,
        datastore: Datastore,
        metadata: MetadataStore,
        rerun_steps: frozenset[str] = frozenset(),
    ) -> None:
        self.flow = flow
        self.run_id = run_id
        self.origin_run_id = origin_run_id
        self.ds = datastore
        self.md = metadata
        self.rerun_steps = rerun_steps
        self.origin: dict[_Key, TaskRecord] = {}
        for task in metadata.list_tasks(flow, origin_run_id):
            if task.status == TaskStatus.SUCCEEDED and task.successful_attempt is not None:
                key = (task.step, tuple(sorted(task.parents)), task.foreach_index)
                self.origin[key] = task
        # new task id -> origin task pathspec, for every task cloned so far
        self.origin_of: dict[str, str] = {}
        self.cloned = 0

    def _key(
        self, step: str, parents: tuple[AttemptPath, ...], foreach_index: int | None
    ) -> _Key | None:
        origin_parents = []
        for p in parents:
            origin = self.origin_of.get(p.task_id)
            if origin is None:
                return None  # a parent ran again, so this task must run again too
            origin_parents.append(origin)
        return (step, tuple(sorted(origin_parents)), foreach_index)

    def try_clone(
        self,
        step: str,
        parents: tuple[AttemptPath, ...],
        stack: Stack,
        foreach_index: int | None,
    ) -> Cloned | None:
        if step in self.rerun_steps:
            return None
        key = self._key(step, parents, foreach_index)
        origin = self.origin.get(key) if key is not None else None
        if origin is None:
            return None
        src = AttemptPath(
            self.flow, self.origin_run_id, step, origin.task_id, origin.successful_attempt or 0
        )
        index = self.ds.read_index(src)
        transition = index.attrs.get("transition")
        if transition is None:
            return None
        record = self.md.create_task(
            self.flow,
            self.run_id,
            step,
            parents=[f"{self.flow}/{p.run_id}/{p.step}/{p.task_id}" for p in parents],
            foreach_index=foreach_index,
            origin_pathspec=origin.pathspec,
        )
        dst = AttemptPath(self.flow, self.run_id, step, record.task_id, 0)
        attrs = dict(index.attrs)
        attrs["origin_pathspec"] = origin.pathspec
        cloned = TaskIndex(artifacts=index.artifacts, stack=stack, attrs=attrs)
        self.ds.write_index(dst, cloned)
        self.ds.copy_logs(src, dst)
        self.md.start_attempt(self.flow, self.run_id, step, record.task_id, 0)
        self.md.finish_attempt(
            self.flow,
            self.run_id,
            step,
            record.task_id,
            0,
            TaskStatus.SUCCEEDED,
            metadata=self._cloned_metadata(origin, cloned),
        )
        self.origin_of[record.task_id] = origin.pathspec
        self.cloned += 1
        return Cloned(record.task_id, Transition.from_json(transition))

    def _cloned_metadata(self, origin: TaskRecord, index: TaskIndex) -> dict[str, str]:
        """The origin task's metadata (the newest value of each entry), and where it came
        from: ``origin-run-id`` and ``origin-task-id``, as Metaflow records them. An artifact
        digest is made again for the clone's own ``index`` (its split stack and attributes
        are not the origin's), keeping the origin's small values."""
        from headwater.datastore.digest import DIGEST_FIELD, decode_digest, encode_digest

        entries = self.md.get_task_metadata(
            self.flow, self.origin_run_id, origin.step, origin.task_id
        )
        out = {e.field: e.value for e in entries}
        digest = out.pop(DIGEST_FIELD, None)
        decoded = decode_digest(digest) if digest else None
        if decoded is not None:
            out[DIGEST_FIELD] = encode_digest(index, decoded[1])
        out["origin-run-id"] = self.origin_run_id
        out["origin-task-id"] = origin.task_id
        return out
