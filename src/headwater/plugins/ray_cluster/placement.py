"""@parallel gangs on Ray: one placement group per attempt of a gang, so that it starts whole.

The runtime launches a gang's tasks together (its control task first). For the first of them
the backend asks Ray for a placement group of one bundle per task, each the size the step asks
for (``@ray``, ``@resources``), strategy ``PACK``; the tasks wait in the driver until Ray has
reserved the whole group (all or nothing), then each is submitted into its own bundle, told the
address of the node holding bundle 0, where the control task runs (``current.parallel.main_ip``).
A gang that needs more than the whole cluster has fails at once. The group is removed when
every task of the attempt has ended (a retry gets a group of its own) or the run ends.

Called from the driver's loop only, except ``_ready``, which Ray calls from its own thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from headwater.runtime.remote_driver import BackendError, Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.runtime.spec import TaskSpec

STRATEGY = "PACK"
# Ray task option -> (placement group resource, unit in messages, bytes per unit)
_RESOURCES = {"num_cpus": ("CPU", "CPUs", 1), "num_gpus": ("GPU", "GPUs", 1)}
_RESOURCES["memory"] = ("memory", "MB", 1 << 20)


class _Group:
    __slots__ = ("pg", "size", "waiting", "members", "ready", "main_ip")

    def __init__(self, pg: Any, size: int) -> None:
        self.pg = pg
        self.size = size
        self.waiting: dict[int, tuple[int, TaskSpec, dict[str, Any]]] = {}  # index -> submit
        self.members: set[int] = set()  # handles of its tasks that have not ended
        self.ready = False
        self.main_ip: str | None = None  # the address of the node holding bundle 0, once placed


class GangPlacement:
    """The placement groups of a run's gangs, and their tasks waiting for them."""

    def __init__(self, submit: Callable[[int, TaskSpec, dict[str, Any]], None]) -> None:
        self._submit = submit  # submits one task to Ray with the given options
        self._groups: dict[tuple[Any, ...], _Group] = {}
        self._of: dict[int, tuple[Any, ...]] = {}  # handle -> its group's key
        self._ready: list[tuple[Any, ...]] = []  # keys of groups Ray has placed, to start
        self._lock = threading.Lock()
        self._wake: Callable[[], None] = lambda: None

    def start(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    def add(
        self,
        handle: int,
        spec: TaskSpec,
        ray_options: dict[str, Any],
        cluster: Mapping[str, float],
    ) -> None:
        """A task of a gang: it waits until its gang's placement group is ready."""
        top = spec.stack[-1]
        key = (spec.flow, spec.run_id, spec.step, top.step, top.task, spec.attempt)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = self._create(
                spec.step, top.num_splits, ray_options, cluster
            )
            # Ray calls back from its own thread (or here, when the group is placed already).
            group.pg.ready().future().add_done_callback(lambda _f: self._placed(key))
        self._of[handle] = key
        group.members.add(handle)
        if group.ready:
            self._start(group, handle, spec._replace(main_ip=group.main_ip), ray_options, top.index)
        else:
            group.waiting[top.index] = (handle, spec, ray_options)

    def start_ready(self) -> list[tuple[int, Outcome]]:
        """Submit the tasks of the groups Ray has placed since the last call; the tasks that
        Ray refused, and why."""
        with self._lock:
            ready, self._ready = self._ready, []
        refused = []
        for key in ready:
            group = self._groups.get(key)
            if group is None or group.ready:
                continue
            group.ready = True
            group.main_ip = _node_address(group.pg)
            waiting, group.waiting = group.waiting, {}
            for index, (handle, spec, options) in sorted(waiting.items()):
                try:
                    self._start(group, handle, spec._replace(main_ip=group.main_ip), options, index)
                except Exception as e:  # noqa: BLE001 - the task fails, the run goes on
                    refused.append((handle, Outcome(f"RayError: {_headline(e)}")))
        return refused

    def withdraw(self, handle: int) -> bool:
        """Forget a task still waiting for its group (it was cancelled); False when it is not
        waiting (it runs on Ray, or is no gang's)."""
        key = self._of.get(handle)
        group = self._groups.get(key) if key is not None else None
        if group is None:
            return False
        for index, waiting in list(group.waiting.items()):
            if waiting[0] == handle:
                del group.waiting[index]
                self.ended(handle)
                return True
        return False

    def ended(self, handle: int) -> None:
        """A task ended: its group is removed once every task of it has."""
        key = self._of.pop(handle, None)
        group = self._groups.get(key) if key is not None else None
        if key is None or group is None:
            return
        group.members.discard(handle)
        if not group.members and not group.waiting:
            del self._groups[key]
            _remove(group.pg)

    def close(self) -> None:
        for group in self._groups.values():
            _remove(group.pg)
        self._groups.clear()
        self._of.clear()

    # --- inside -------------------------------------------------------------------------------
    def _create(
        self, step: str, size: int, ray_options: Mapping[str, Any], cluster: Mapping[str, float]
    ) -> _Group:
        bundle: dict[str, float] = {}
        for option, (resource, unit, scale) in _RESOURCES.items():
            wanted = float(ray_options.get(option) or 0)
            if not wanted:
                continue
            bundle[resource] = wanted
            have = float(cluster.get(resource, 0))
            if wanted * size > have:
                raise BackendError(
                    f"@parallel step '{step}' needs {size} tasks of {wanted / scale:g} {unit} "
                    f"on Ray, {wanted * size / scale:g} in all, more than the whole cluster has "
                    f"({have / scale:g}): lower num_parallel or the step's resources, or add "
                    "nodes"
                )
        from ray.util.placement_group import placement_group

        return _Group(placement_group([bundle] * size, strategy=STRATEGY), size)

    def _placed(self, key: tuple[Any, ...]) -> None:
        """In a Ray thread: the group is placed (or removed, when the run ended first)."""
        with self._lock:
            self._ready.append(key)
        self._wake()

    def _start(
        self, group: _Group, handle: int, spec: TaskSpec, options: dict[str, Any], index: int
    ) -> None:
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        strategy = PlacementGroupSchedulingStrategy(
            placement_group=group.pg, placement_group_bundle_index=index
        )
        self._submit(handle, spec, {**options, "scheduling_strategy": strategy})


def _node_address(pg: Any) -> str | None:
    """The address of the node holding the group's bundle 0 (None: not known)."""
    try:
        import ray
        from ray.util.placement_group import placement_group_table

        node = placement_group_table(pg)["bundles_to_node_id"][0]
        for n in ray.nodes():
            if n.get("NodeID") == node:
                return str(n["NodeManagerAddress"])
    except Exception:  # noqa: BLE001, S110 - then the task says 127.0.0.1, as locally
        pass
    return None


def _headline(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def _remove(pg: Any) -> None:
    try:
        from ray.util.placement_group import remove_placement_group

        remove_placement_group(pg)
    except Exception:  # noqa: BLE001, S110 - the cluster is gone: so is the group
        pass
