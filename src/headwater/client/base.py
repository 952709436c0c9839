"""What every client object shares: identity, repr, equality, pickling, the stores it reads.

An object remembers its path components, the attempt it shows (tasks and artifacts) and the
datastore root it was read from; records and indexes are cached on it as they are read. A
pickle carries only the pathspec, the attempt and the root: the unpickled object reconnects
lazily (to the same root when it still exists, else to the current provider) and skips the
namespace check, which the original already passed.
"""

from __future__ import annotations

from headwater.client.namespaces import UNSET, check_visible, get_namespace
from headwater.client.provider import Connection, current_connection, reconnect
from headwater.core.suggest import did_you_mean
from headwater.exceptions import InvalidPathspec, ObjectNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import datetime as _dt
    from collections.abc import Iterator
    from typing import Any, ClassVar


def to_datetime(ts: float | None) -> _dt.datetime | None:
    """Epoch seconds to a naive local datetime (as Metaflow's client returns them)."""
    if ts is None:
        return None
    from datetime import datetime  # here: most client calls never show a time

    return datetime.fromtimestamp(ts)


def steps_hint(name: str, steps: list[str]) -> str:
    """What to say about an unknown step ``name`` of a run that has ``steps``: the near
    names (a typo), else the steps there are."""
    names = [s for s in steps if not s.startswith("_")]
    if not names:
        return "no step of it has started"
    return did_you_mean(name, names) or f"its steps are {', '.join(names)}"


def split_exact(pathspec: Any, shape: str) -> list[str]:
    """Split ``pathspec`` into exactly as many parts as ``shape`` ("Flow/run/...") has."""
    want = shape.count("/") + 1
    if not isinstance(pathspec, str) or not pathspec.strip("/"):
        raise InvalidPathspec(
            f"pathspec must be a non-empty string like {shape!r}, got {pathspec!r}"
        )
    parts = pathspec.strip("/").split("/")
    if len(parts) != want or any(not p for p in parts):
        raise InvalidPathspec(f"malformed pathspec {pathspec!r}: expected {shape!r}")
    return parts


class ClientObject:
    """Base of Flow, Run, Step, Task and DataArtifact."""

    _SHAPE: ClassVar[str] = ""

    _parts: list[str]
    _attempt: int | None
    _root: str | None
    _conn_obj: Connection | None

    def _init_common(
        self, parts: list[str], conn: Connection | None, attempt: int | None = None
    ) -> None:
        self._parts = list(parts)
        self._attempt = attempt
        self._conn_obj = conn if conn is not None else current_connection()
        self._root = self._conn_obj.provider
        self._reset_caches()

    def _reset_caches(self) -> None:
        """Subclasses clear what they cache (records, indexes); called on init and unpickle."""

    # --- identity -----------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._parts[-1]

    @property
    def pathspec(self) -> str:
        return "/".join(self._parts)

    @property
    def path_components(self) -> list[str]:
        return list(self._parts)

    @property
    def _conn(self) -> Connection:
        if self._conn_obj is None:
            self._conn_obj = reconnect(self._root)
        return self._conn_obj

    @property
    def _meta(self) -> Any:
        return self._conn.metadata

    @property
    def _ds(self) -> Any:
        return self._conn.datastore

    def __repr__(self) -> str:
        if self._attempt is not None:
            return f"{type(self).__name__}('{self.pathspec}', attempt={self._attempt})"
        return f"{type(self).__name__}('{self.pathspec}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ClientObject)
        return (self._parts, self._attempt, self._root) == (
            other._parts,
            other._attempt,
            other._root,
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.pathspec, self._attempt))

    # --- pickling -----------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {"pathspec": self.pathspec, "attempt": self._attempt, "root": self._root}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._parts = state["pathspec"].split("/")
        self._attempt = state.get("attempt")
        self._root = state.get("root")
        self._conn_obj = None
        self._reset_caches()

    # --- children -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:  # pragma: no cover - every subclass overrides it
        return iter(())


class InRun(ClientObject):
    """An object that belongs to one run (Run, Step, Task, DataArtifact): it carries the run's
    tags and is visible when its run is."""

    _run_rec: Any

    def _reset_caches(self) -> None:
        self._run_rec = None

    @property
    def _run_record(self) -> Any:
        if self._run_rec is None:
            flow, run_id = self._parts[0], self._parts[1]
            rec = self._meta.get_run(flow, run_id)
            if rec is None:
                raise ObjectNotFound(
                    f"run {run_id} of {flow} not found: list runs with "
                    f"Flow('{flow}').runs() or check the id"
                )
            self._run_rec = rec
        return self._run_rec

    def _check_namespace(self, ns: Any = UNSET) -> None:
        check_visible(repr(self), self._run_record.all_tags, ns)

    def is_in_namespace(self) -> bool:
        ns = get_namespace()
        return ns is None or ns in self._run_record.all_tags

    @property
    def tags(self) -> frozenset[str]:
        """User and system tags of the run this object belongs to."""
        return self._run_record.all_tags

    @property
    def user_tags(self) -> frozenset[str]:
        return frozenset(self._run_record.tags)

    @property
    def system_tags(self) -> frozenset[str]:
        return frozenset(self._run_record.system_tags)
