"""What runs in Ray's worker processes: one task attempt, as a fork of a warm worker.

A worker imports the run's flow from its code package the first time it gets one of the run's
tasks (Ray gives a job's tasks to the same few worker processes, so that happens once per
worker), then runs each attempt under :func:`headwater.runtime.supervise.supervise`: forked,
its output saved to the datastore's logs, its @timeout enforced, its TaskResult written next to
its artifacts, where the driver reads it. Nothing is returned through Ray but the exit status.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.datastore.store import Datastore

_datastores: dict[tuple[str, str], Datastore] = {}
_warm: set[int] = set()  # ids of the imported flows whose task code was warmed up


def run_task(spec_json: str, timeout_s: float | None) -> bool:
    """Run one attempt; True when it succeeded (its result is in the datastore either way)."""
    from headwater.runtime.package_import import as_main, import_run_flow
    from headwater.runtime.spec import TaskSpec
    from headwater.runtime.supervise import supervise

    spec = TaskSpec.from_json(spec_json)
    key = (spec.datastore, spec.root)
    ds = _datastores.get(key)
    if ds is None:
        from headwater.stores import open_datastore

        ds = _datastores[key] = open_datastore(spec.datastore, spec.root)
    flow = import_run_flow(ds, spec.flow, spec.params)
    if id(flow) not in _warm:
        _warm_up(flow.graph)
        _warm.add(id(flow))
    with as_main(flow.module):
        result = supervise(spec, flow.flow_cls, flow.graph, ds, echo=False, timeout_s=timeout_s)
    return result.ok


def _warm_up(graph: object) -> None:
    """What the fork executor's zygote does before its first fork: import and prepare what
    every task needs, then keep it out of the garbage collector's way in the forks."""
    import gc

    from headwater.runtime import task as task_module

    task_module.warm_up(graph)  # type: ignore[arg-type]
    for piece in task_module.MORE_WARM_UP:
        piece()
    gc.collect()
    gc.freeze()
