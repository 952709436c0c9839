"""Reading the same artifact of many tasks at once, when the datastore is far away.

``[t.data.y for t in run["body"]]`` reads one index and one blob per task. On a local disk
that costs microseconds each; from an object store every read is a round trip, and a
thousand of them one after another take seconds. The tasks a ``Step`` iteration hands out
share one :class:`Siblings`: the first time one of them needs its index, every sibling's index
is fetched in one parallel request batch; the first time one of them needs artifact ``y``,
``y`` of every sibling is fetched the same way (only small values: a big one, or many, is
still read one task at a time, when asked for). Nothing is prefetched from a local datastore.

Before reading any index, the metadata store is asked once for the step's artifact digests
(headwater.datastore.digest): tasks that recorded one need no index read, and their small
values come with it, so a foreach step's small artifacts cost one question in all.
"""

from __future__ import annotations

from headwater.exceptions import IndexNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.store import Datastore
    from headwater.metadata_store.store import MetadataStore

PREFETCH_MAX_VALUE = 1 << 20  # an artifact this big or bigger is read when it is asked for
PREFETCH_MAX_TOTAL = 64 << 20  # and no more than this, in all, for one name


class Siblings:
    """The tasks of one step iteration (client Task objects), read together."""

    def __init__(
        self, tasks: list[Any], datastore: Datastore, metadata: MetadataStore | None = None
    ) -> None:
        self.tasks = tasks
        self.ds = datastore
        self.md = metadata
        self.indexed = False
        self.loaded: dict[str, dict[str, Any]] = {}  # artifact name -> blob key -> value
        self.inline: dict[str, bytes] = {}  # blob key -> the blob, from the digests

    @staticmethod
    def worth_it(datastore: Datastore, count: int) -> bool:
        return count > 1 and datastore.storage.kind != "local"

    def read_indexes(self) -> None:
        """Give every sibling whose index is not read yet its index (or note it has none)."""
        if self.indexed:
            return
        self.indexed = True
        todo = [t for t in self.tasks if t._index_cache is None]
        if len(todo) < 2:
            return
        todo = self._from_digests(todo)
        if len(todo) < 2:
            return
        paths = [t._path for t in todo]
        try:
            indexes = self.ds.read_indexes(paths)
        except IndexNotFound:
            return  # some never finished: each reads its own, as without prefetching
        for task, index in zip(todo, indexes, strict=True):
            task._index_cache = index

    def _from_digests(self, todo: list[Any]) -> list[Any]:
        """Give the tasks of ``todo`` whose current attempt recorded a digest its index, and
        keep the digest's blobs; returns the tasks left to read from the datastore."""
        from headwater.datastore.digest import DIGEST_FIELD, decode_digest
        from headwater.exceptions import HeadwaterException

        if self.md is None:
            return todo
        flow, run_id, step = todo[0]._parts[:3]
        try:
            entries = self.md.step_metadata(flow, run_id, step, DIGEST_FIELD)
        except HeadwaterException:  # e.g. a service older than the question: read as before
            return todo
        digests = {(e.task_id, e.attempt): e.value for e in entries}
        left = []
        for task in todo:
            text = digests.get((task._parts[3], task.current_attempt))
            decoded = decode_digest(text) if text else None
            if decoded is None:
                left.append(task)
                continue
            task._index_cache, blobs = decoded
            self.inline.update(blobs)
        return left

    def value(self, task: Any, name: str, key: str) -> Any:
        """``name`` of ``task`` (stored under ``key``), fetched with its siblings' ``name``."""
        data = self.inline.get(key)
        if data is not None:
            from headwater.exceptions import HeadwaterException
            from headwater.serde.blob import deserialize

            try:
                return deserialize(data, key=key)
            except HeadwaterException:  # not what the key says: the datastore has the blob
                del self.inline[key]
        values = self.loaded.get(name)
        if values is None:
            values = self.loaded[name] = self._load_all(name)
        if key in values:
            return values[key]
        return self.ds.load_value(task._parts[0], key)

    def _load_all(self, name: str) -> dict[str, Any]:
        self.read_indexes()
        refs = {}
        total = 0
        for t in self.tasks:
            index = t._index_cache
            ref = None if index is None else index.artifacts.get(name)
            if ref is None or ref.size >= PREFETCH_MAX_VALUE or ref.key in refs:
                continue
            if ref.key in self.inline:
                continue
            total += ref.size
            if total > PREFETCH_MAX_TOTAL:
                break
            refs[ref.key] = ref
        if len(refs) < 2:
            return {}
        flow = self.tasks[0]._parts[0]
        return self.ds.load_values(flow, list(refs))
