"""``current``: facts about the task that is running, backed by a context variable."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from headwater.record import EMPTY_MAPPING, Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class CurrentState(Record):
    flow_name: str
    run_id: str
    step_name: str
    task_id: str
    retry_count: int = 0
    origin_run_id: str | None = None
    namespace: str | None = None
    username: str | None = None
    tags: frozenset[str] = frozenset()
    parameter_names: tuple[str, ...] = ()
    graph: Mapping[str, Any] | None = None
    tempdir: str | None = None
    extras: Mapping[str, Any] = EMPTY_MAPPING
    # Builds client objects for current.run / current.task; set by whoever runs the task.
    client_factory: Callable[[str], Any] | None = None


class Parallel(Record):
    """``current.parallel``: where a task of a @parallel gang stands in it. ``node_index`` 0 is
    the control task; outside a gang a task is a gang of one."""

    main_ip: str = "127.0.0.1"
    num_nodes: int = 1
    node_index: int = 0
    control_task_id: str | None = None


_state: contextvars.ContextVar[CurrentState | None] = contextvars.ContextVar(
    "headwater_current", default=None
)


@contextmanager
def activate(state: CurrentState) -> Iterator[None]:
    token = _state.set(state)
    try:
        yield
    finally:
        _state.reset(token)


def set_state(state: CurrentState | None) -> None:
    """Set ``current`` for the rest of this context (a task process sets it once)."""
    _state.set(state)


# ``current`` attributes known in the launching process before any task runs (@project's, for
# callable Parameter defaults); tasks get theirs from their own state.
_launch_extras: dict[str, Any] = {}


def set_launch_extras(extras: Mapping[str, Any]) -> None:
    """Make ``current.<name>`` answer ``extras[name]`` outside tasks (while a run launches)."""
    _launch_extras.clear()
    _launch_extras.update(extras)


def run_tags() -> frozenset[str]:
    """Every tag of the running task's run, system tags included (empty outside a task);
    ``current.tags`` gives the user tags only, as in Metaflow."""
    state = _state.get()
    return frozenset() if state is None else state.tags


def add_extra(name: str, value: Any) -> None:
    """Make ``current.<name>`` return ``value`` in the running task (decorators use this:
    ``current.card``, ``current.project_name``...). No-op outside a task."""
    state = _state.get()
    if state is None:
        return
    extras = dict(state.extras)
    extras[name] = value
    _state.set(state._replace(extras=extras))


class Current:
    """Read-only view of the running task; every attribute is None outside a run."""

    _FIELDS = (
        "flow_name",
        "run_id",
        "step_name",
        "task_id",
        "retry_count",
        "origin_run_id",
        "namespace",
        "username",
        "parameter_names",
        "graph",
    )

    def __getattr__(self, name: str) -> Any:
        state = _state.get()
        if name in self._FIELDS:
            return None if state is None else getattr(state, name)
        if state is not None and name in state.extras:
            return state.extras[name]
        if state is None and name in _launch_extras:
            return _launch_extras[name]
        if name.startswith("__") or state is not None or name not in _KNOWN_EXTRAS:
            raise AttributeError(f"current has no attribute {name!r}")
        return None

    @property
    def tags(self) -> set[str] | None:
        """The run's user tags, as a new set a step may keep and change (as Metaflow's; the
        system tags are on ``current.run.system_tags``)."""
        s = _state.get()
        if s is None:
            return None
        from headwater.core.tags import is_system_tag

        return {t for t in s.tags if not is_system_tag(t)}

    @property
    def parallel(self) -> Parallel | None:
        """This task's place in its @parallel gang (a gang of one outside @parallel steps)."""
        s = _state.get()
        if s is None:
            return None
        return s.extras.get("parallel") or Parallel()

    @property
    def is_parallel(self) -> bool:
        """True in a task of a @parallel step."""
        s = _state.get()
        return s is not None and "parallel" in s.extras

    @property
    def tempdir(self) -> str | None:
        """A directory private to this task attempt, created on first use, removed after."""
        s = _state.get()
        if s is None or s.tempdir is None:
            return None
        os.makedirs(s.tempdir, exist_ok=True)
        return s.tempdir

    @property
    def is_running_flow(self) -> bool:
        return _state.get() is not None

    @property
    def pathspec(self) -> str | None:
        s = _state.get()
        if s is None:
            return None
        return f"{s.flow_name}/{s.run_id}/{s.step_name}/{s.task_id}"

    @property
    def run(self) -> Any:
        s = _state.get()
        if s is None or s.client_factory is None:
            return None
        return s.client_factory(f"{s.flow_name}/{s.run_id}")

    @property
    def task(self) -> Any:
        s = _state.get()
        if s is None or s.client_factory is None:
            return None
        return s.client_factory(self.pathspec or "")

    def get(self, name: str, default: Any = None) -> Any:
        try:
            value = getattr(self, name)
        except AttributeError:
            return default
        return default if value is None else value

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __repr__(self) -> str:
        return f"<current {self.pathspec or '(not in a task)'}>"


# Attributes set by decorators (@project, @card, @parallel); None outside a run.
_KNOWN_EXTRAS = frozenset(
    {
        "project_name",
        "branch_name",
        "is_user_branch",
        "is_production",
        "project_flow_name",
        "card",
    }
)

current = Current()
