"""Reading the same artifact of many tasks at once, when the datastore is far away.

``[t.data.y for t in run["body"]]`` reads one index and one blob per task. On a local disk
that costs microseconds each; from an object store every read is a round trip, and a
thousand of them one after another take seconds. The tasks a ``Step`` iteration hands out
share one :class:`Siblings`: the first time one of them needs its index, every sibling's index
is fetched in one parallel request batch; the first time one of them needs artifact ``y``,
``y`` of every sibling is fetched the same way (only small values: a big one, or many, is
still read one task at a time, when asked for). Nothing is prefetched from a local datastore.
"""

from __future__ import annotations

from headwater.exceptions import IndexNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.store import Datastore

PREFETCH_MAX_VALUE = 1 << 20  # an artifact this big or bigger is read when it is asked for
PREFETCH_MAX_TOTAL = 64 << 20  # and no more than this, in all, for one name


class Siblings:
    """The tasks of one step iteration (client Task objects), read together."""

    def __init__(self, tasks: list[Any], datastore: Datastore) -> None:
        self.tasks = tasks
        self.ds = datastore
        self.indexed = False
        self.loaded: dict[str, dict[str, Any]] = {}  # artifact name -> blob key -> value

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
        paths = [t._path for t in todo]
        try:
            indexes = self.ds.read_indexes(paths)
        except IndexNotFound:
            return  # some never finished: each reads its own, as without prefetching
        for task, index in zip(todo, indexes, strict=True):
            task._index_cache = index

    def value(self, task: Any, name: str, key: str) -> Any:
        """``name`` of ``task`` (stored under ``key``), fetched with its siblings' ``name``."""
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
            total += ref.size
            if total > PREFETCH_MAX_TOTAL:
                break
            refs[ref.key] = ref
        if len(refs) < 2:
            return {}
        flow = self.tasks[0]._parts[0]
        return self.ds.load_values(flow, list(refs))
