"""What runs in Ray's worker processes: one task attempt per Ray task.

Ray gives a job's tasks to the same few worker processes. The first time a worker gets a task
of a run, it starts a small process that imports the run's flow from its code package
(:mod:`.task_zygote`); that process runs each of the run's tasks the worker gets, as a fork
of itself, supervised: its output saved to the datastore's logs, its @timeout enforced, its
TaskResult written next to its artifacts, where the driver reads it. Nothing is returned
through Ray but whether it succeeded, or why the task could not run.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.plugins.ray_cluster.task_zygote import TaskZygote

_zygotes: dict[tuple[str, str, str, str], TaskZygote] = {}
DIED = "died"  # run_task's answer when the process running the task died under it


def run_task(spec_json: str, timeout_s: float | None) -> str:
    """Run one attempt: ``ok``, ``failed`` (its result is in the datastore either way), or
    ``died`` (its process was killed under it: no result)."""
    from headwater.plugins.ray_cluster.task_zygote import TaskZygote, ZygoteDied
    from headwater.runtime.spec import TaskSpec

    spec = TaskSpec.from_json(spec_json)
    key = (spec.datastore, spec.root, spec.flow, spec.params)
    zygote = _zygotes.get(key)
    if zygote is None or not zygote.alive():
        zygote = _zygotes[key] = TaskZygote(spec)  # raises FlowImportFailed
    try:
        return "ok" if zygote.run(spec_json, timeout_s) == 0 else "failed"
    except ZygoteDied:
        _zygotes.pop(key, None)
        return DIED


def warm_up() -> None:
    """Run by a few tasks as soon as the driver connects: the job's workers start, and import
    what starting a task needs, before the run's first task arrives."""
    import headwater.plugins.ray_cluster.task_zygote  # noqa: F401
    import headwater.runtime.spec  # noqa: F401
