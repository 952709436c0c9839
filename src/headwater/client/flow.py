"""``Metaflow()`` (every flow) and ``Flow(name)`` (its runs, newest first)."""

from __future__ import annotations

from headwater.client.base import ClientObject, split_exact, to_datetime
from headwater.client.namespaces import UNSET, flow_not_visible, resolve
from headwater.client.provider import Connection, current_connection
from headwater.exceptions import ObjectNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import datetime as _dt
    from collections.abc import Iterator
    from typing import Any


class Metaflow:
    """Entry point to every flow of the datastore; lists the flows visible in the namespace
    (those with at least one run in it)."""

    def __init__(self, _current_namespace: Any = UNSET, *, _conn: Connection | None = None):
        self._conn = _conn if _conn is not None else current_connection()
        self._ns = _current_namespace

    @property
    def flows(self) -> list[Flow]:
        return list(self)

    def __iter__(self) -> Iterator[Flow]:
        ns = resolve(self._ns)
        meta = self._conn.metadata
        for rec in meta.list_flows():
            if ns is None or meta.latest_run(rec.flow, [ns]) is not None:
                yield Flow._make(rec, self._conn, self._ns)

    def __getitem__(self, name: str) -> Flow:
        return Flow(name, _current_namespace=self._ns, _conn=self._conn)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._conn.metadata.get_flow(name) is not None

    def __repr__(self) -> str:
        return "Metaflow()"

    __str__ = __repr__


class Flow(ClientObject):
    """A flow: ``.latest_run``, ``.latest_successful_run``, ``.runs(*tags)``, ``flow[run_id]``.

    Iterating gives the runs visible in the namespace, newest first (one metadata query).
    As in Metaflow, ``Flow(name)`` raises NamespaceMismatch when none of the flow's runs is in
    the namespace.
    """

    _SHAPE = "Flow"

    def __init__(
        self,
        pathspec: str,
        _namespace_check: bool = True,
        _current_namespace: Any = UNSET,
        *,
        _conn: Connection | None = None,
    ) -> None:
        parts = split_exact(pathspec, self._SHAPE)
        self._init_common(parts, _conn)
        self._ns = _current_namespace
        self._record  # noqa: B018 - raises ObjectNotFound for an unknown flow
        if _namespace_check:
            self._check_namespace()

    def _check_namespace(self) -> None:
        ns = resolve(self._ns)
        if ns is None or self._meta.latest_run(self.id, [ns]) is not None:
            return
        newest = self._meta.latest_run(self.id, [])
        raise flow_not_visible(self.id, ns, newest.all_tags if newest is not None else ())

    @classmethod
    def _make(cls, record: Any, conn: Connection, ns: Any = UNSET) -> Flow:
        obj = cls.__new__(cls)
        obj._init_common([record.flow], conn)
        obj._ns = ns
        obj._rec = record
        return obj

    def _reset_caches(self) -> None:
        self._rec: Any = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._ns = UNSET
        super().__setstate__(state)

    @property
    def _record(self) -> Any:
        if self._rec is None:
            rec = self._meta.get_flow(self.id)
            if rec is None:
                from headwater.core.suggest import did_you_mean

                hint = did_you_mean(self.id, [f.flow for f in self._meta.list_flows()])
                raise ObjectNotFound(
                    f"flow {self.id!r} not found in {self._conn.root}: "
                    + (
                        hint
                        or "check the name (it is the FlowSpec class name), or list flows with "
                        "Metaflow().flows"
                    )
                )
            self._rec = rec
        return self._rec

    @property
    def _tag_filter(self) -> list[str]:
        ns = resolve(self._ns)
        return [] if ns is None else [ns]

    # --- runs ---------------------------------------------------------------------------------

    def _run(self, record: Any) -> Any:
        from headwater.client.run import Run

        return Run._make(record, self._conn, parent=self)

    def runs(self, *tags: str) -> Iterator[Any]:
        """Runs visible in the namespace carrying every tag in ``tags``, newest first."""
        for rec in self._meta.list_runs(self.id, [*self._tag_filter, *tags]):
            yield self._run(rec)

    def __iter__(self) -> Iterator[Any]:
        return self.runs()

    @property
    def latest_run(self) -> Any:
        """The newest run visible in the namespace (finished or not), or None."""
        rec = self._meta.latest_run(self.id, self._tag_filter)
        return None if rec is None else self._run(rec)

    @property
    def latest_successful_run(self) -> Any:
        """The newest run visible in the namespace whose end step succeeded, or None."""
        rec = self._meta.latest_successful_run(self.id, self._tag_filter)
        return None if rec is None else self._run(rec)

    def __getitem__(self, run_id: str) -> Any:
        from headwater.client.run import Run

        rec = self._meta.get_run(self.id, str(run_id))
        if rec is None:
            raise ObjectNotFound(
                f"run {run_id} of {self.id} not found: list runs with "
                f"Flow('{self.id}').runs() or check the id"
            )
        run = Run._make(rec, self._conn, parent=self)
        run._check_namespace(self._ns)
        return run

    def __contains__(self, run_id: object) -> bool:
        return (
            isinstance(run_id, (str, int)) and self._meta.get_run(self.id, str(run_id)) is not None
        )

    # --- facts --------------------------------------------------------------------------------

    @property
    def created_at(self) -> _dt.datetime | None:
        return to_datetime(self._record.created_at)

    @property
    def parent(self) -> None:
        return None

    @property
    def tags(self) -> frozenset[str]:
        """Flows carry no tags of their own (runs do)."""
        return frozenset()

    @property
    def system_tags(self) -> frozenset[str]:
        return frozenset()

    @property
    def user_tags(self) -> frozenset[str]:
        return frozenset()

    def is_in_namespace(self) -> bool:
        """Whether the flow has a run in the current namespace."""
        ns = resolve(self._ns)
        return ns is None or self._meta.latest_run(self.id, [ns]) is not None
