"""A task with no runtime: ``python flow.py step STEP --run-id R --input-paths ...`` as a
production scheduler (Airflow, Argo) or any other process runs it.

The task plans itself from what is stored: its parents' successful attempts (metadata), their
split stacks and transitions (their indexes), the run's tags; its id is given
(``--task-id``) or derived from its step, parents and split index, so a retried pod finds the
same task. It registers itself (creating an existing task or attempt is idempotent), runs
supervised (see :mod:`headwater.runtime.supervise`), records how the attempt ended, and sets
the run's status when it ends the run: completed after the end step, failed when a task fails
with no retry left.
"""

from __future__ import annotations

from collections.abc import Sequence

from headwater.core.ids import AttemptPath, derived_task_id, params_path
from headwater.core.splits import (
    FrameKind,
    Stack,
    Transition,
    TransitionKind,
    foreach_index,
    successors,
)
from headwater.exceptions import IndexNotFound, PlanError
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.record import Record
from headwater.runtime.spec import StepPolicy, TaskResult, TaskSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.core.graph import FlowGraph, GraphNode
    from headwater.datastore.store import Datastore
    from headwater.metadata_store.store import MetadataStore
    from headwater.stores import Stores


class ScheduledTask(Record):
    """What the scheduler's command line says about one task attempt."""

    run_id: str
    step: str
    input_paths: tuple[str, ...] = ()  # "run/step/task" (or "step/task": this run) each
    task_id: str | None = None  # None: derived
    split_index: int | None = None  # which element of the parent's foreach (or branch)
    retry_count: int = 0  # the attempt number
    max_user_code_retries: int | None = None  # None: from the step's @retry
    namespace: str | None = None
    max_num_splits: int = 100
    user: str = ""


def parse_input_paths(text: str, run_id: str) -> tuple[str, ...]:
    """``--input-paths``: comma-separated ``run/step/task`` (or ``step/task``), or a JSON list
    of them (what Argo makes of the outputs of a mapped task)."""
    out = []
    parts = text.split(",")
    if text.lstrip().startswith("["):
        import json

        try:
            parts = [str(p) for p in json.loads(text)]
        except ValueError:
            raise PlanError(
                f"--input-paths {text!r} is not a JSON list: write RUN/STEP/TASK,... or a "
                "JSON list of them"
            ) from None
    for part in filter(None, (p.strip() for p in parts)):
        pieces = part.strip("/").split("/")
        if len(pieces) == 2:
            pieces = [run_id, *pieces]
        if len(pieces) != 3 or not all(pieces):
            raise PlanError(
                f"--input-paths {part!r}: write each input as RUN/STEP/TASK (or STEP/TASK), "
                "separated by commas"
            )
        out.append("/".join(pieces))
    return tuple(out)


def plan(
    flow: str,
    graph: FlowGraph,
    stores: Stores,
    task: ScheduledTask,
    policy: StepPolicy,
    decospecs: Sequence[str] = (),
) -> TaskSpec:
    """The spec of the attempt ``task`` describes (raises PlanError saying what is missing)."""
    md, ds = stores.metadata, stores.datastore
    if task.step not in graph.nodes:
        raise PlanError(f"{flow} has no step {task.step!r}: pick one of {', '.join(graph.nodes)}")
    run = md.get_run(flow, task.run_id)
    if run is None or not ds.has_index(params_path(flow, task.run_id)):
        raise PlanError(
            f"run {task.run_id} of {flow} has not been initialized: run `python <flow file> init "
            f"--run-id {task.run_id}` (with the run's parameters) before its first step"
        )
    parents = [_parent_attempt(md, flow, p) for p in task.input_paths]
    node = graph[task.step]
    if not parents and task.step != graph.start:
        raise PlanError(
            f"step {task.step!r} needs --input-paths: the tasks it follows (RUN/STEP/TASK)"
        )
    stack, parents = _stack(ds, node, task, parents)
    pathspecs = [f"{flow}/{p.run_id}/{p.step}/{p.task_id}" for p in parents]
    split = task.split_index if task.split_index is not None else foreach_index(stack)
    task_id = task.task_id or derived_task_id(task.step, pathspecs, split)
    retries = policy.retries if task.max_user_code_retries is None else task.max_user_code_retries
    return TaskSpec(
        flow=flow,
        run_id=task.run_id,
        step=task.step,
        task_id=task_id,
        attempt=task.retry_count,
        root=ds.url,
        datastore=ds.storage.kind,
        inputs=tuple(p.to_token() for p in parents),
        stack=stack,
        params=params_path(flow, task.run_id).to_token(),
        user=task.user or run.user,
        tags=tuple(run.tags) + tuple(run.system_tags),
        namespace=task.namespace,
        max_num_splits=task.max_num_splits,
        decospecs=tuple(decospecs),
        catch_var=policy.catch_var,
        print_exception=policy.print_exception,
        last_attempt=task.retry_count >= retries,
    )


def _parent_attempt(md: MetadataStore, flow: str, pathspec: str) -> AttemptPath:
    run_id, step, task_id = pathspec.split("/")
    rec = md.get_task(flow, run_id, step, task_id)
    if rec is None or rec.successful_attempt is None:
        state = "does not exist" if rec is None else f"has not succeeded ({rec.status})"
        raise PlanError(
            f"input task {flow}/{pathspec} {state}: a step starts only after the tasks it "
            "follows have succeeded"
        )
    return AttemptPath(flow, run_id, step, task_id, rec.successful_attempt)


def _stack(
    ds: Datastore, node: GraphNode, task: ScheduledTask, parents: list[AttemptPath]
) -> tuple[Stack, list[AttemptPath]]:
    """The task's split stack, from its parents' stacks and transitions; and its parents in
    the order a join sees them (branch order, foreach index), whatever order they came in."""
    if not parents:
        return (), parents
    indexes = []
    for p in parents:
        try:
            indexes.append(ds.read_index(p))
        except IndexNotFound:
            raise PlanError(
                f"input task {p.pathspec} attempt {p.attempt} has no artifact index: it did "
                "not finish, or the datastore settings differ from the run's"
            ) from None
    if node.is_join:
        tops = [ix.stack[-1] for ix in indexes if ix.stack]
        if len(tops) != len(indexes) or len({(t.step, t.task) for t in tops}) != 1:
            raise PlanError(
                f"join {task.step!r} must be given the tasks of one split as --input-paths"
            )
        want = tops[0].num_splits
        if sorted(t.index for t in tops) != list(range(want)):
            raise PlanError(
                f"join {task.step!r} needs all {want} tasks of its split as --input-paths, "
                f"got {len(tops)}"
            )
        in_order = [p for _, p in sorted(zip([t.index for t in tops], parents, strict=True))]
        return indexes[0].stack[:-1], in_order
    if len(parents) != 1:
        raise PlanError(f"step {task.step!r} is not a join: give exactly one --input-paths task")
    parent, index = parents[0], indexes[0]
    transition = index.attrs.get("transition")
    if not transition:
        raise PlanError(f"input task {parent.pathspec} did not record where it goes next")
    mine = [st for target, st in successors(parent, index.stack, Transition.from_json(transition))
            if target == task.step]  # fmt: skip
    if not mine:
        raise PlanError(f"input task {parent.pathspec} does not lead to step {task.step!r}")
    if len(mine) == 1:
        return mine[0], parents
    i = task.split_index
    if i is None or not 0 <= i < len(mine):
        raise PlanError(
            f"step {task.step!r} is one of {len(mine)} foreach splits of {parent.pathspec}: "
            f"pass --split-index 0..{len(mine) - 1}"
        )
    frame = mine[i][-1]
    assert frame.kind == FrameKind.FOREACH and frame.index == i
    return mine[i], parents


def run_planned(
    spec: TaskSpec,
    flow_cls: type,
    graph: FlowGraph,
    stores: Stores,
    policy: StepPolicy,
    register: bool = True,
) -> TaskResult:
    """Run a planned attempt supervised; with ``register`` record it in the metadata first and
    its outcome (and the run's, when this task ends it) afterwards."""
    from headwater.runtime.supervise import supervise

    md = stores.metadata
    key = (spec.flow, spec.run_id, spec.step, spec.task_id)
    if register:
        md.create_task(
            spec.flow,
            spec.run_id,
            spec.step,
            parents=[AttemptPath.from_token(spec.flow, t).pathspec for t in spec.inputs],
            foreach_index=foreach_index(spec.stack),
            task_id=spec.task_id,
        )
        md.start_attempt(*key, spec.attempt)
    result = supervise(spec, flow_cls, graph, stores.datastore, timeout_s=policy.timeout_s)
    if register:
        record_outcome(md, spec, result)
    return result


def record_outcome(md: MetadataStore, spec: TaskSpec, result: TaskResult) -> None:
    key = (spec.flow, spec.run_id, spec.step, spec.task_id)
    status = TaskStatus.SUCCEEDED if result.ok else TaskStatus.FAILED
    md.finish_attempt(
        *key,
        spec.attempt,
        status,
        exception=result.exception,
        traceback=result.traceback,
        metadata=result.metadata(),
    )
    if result.ok:
        if result.transition is not None and result.transition.kind == TransitionKind.END:
            md.set_run_status(spec.flow, spec.run_id, RunStatus.COMPLETED)
    elif spec.last_attempt or not result.retryable:
        md.finish_task(*key, TaskStatus.FAILED)
        md.set_run_status(spec.flow, spec.run_id, RunStatus.FAILED)
