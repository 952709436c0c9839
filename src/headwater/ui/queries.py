"""What the flow, runs and run pages read: a few indexed queries each, never one per row.

Everything goes through the metadata store's interface and the datastore, so the UI reads any
backend the client reads. Unknown flows and runs raise :class:`ObjectNotFound` (a 404 page).
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Sequence

from headwater.cards.preview import safe_repr
from headwater.core.ids import params_path
from headwater.exceptions import HeadwaterException, IndexNotFound, ObjectNotFound
from headwater.metadata_store.records import (
    FlowRecord,
    RunRecord,
    RunStatus,
    TaskRecord,
    TaskStatus,
)
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.store import Datastore
    from headwater.metadata_store.store import MetadataStore
    from headwater.stores import Stores as Resolved

RUNS_PER_PAGE = 50


class Stores:
    """The metadata store and datastore the UI reads, opened once per server: resolved
    stores (headwater.stores), or the path of a local ``.headwater`` root."""

    def __init__(self, source: Resolved | str | os.PathLike[str]) -> None:
        if isinstance(source, (str, os.PathLike)):
            from headwater.settings import Settings
            from headwater.stores import open_stores

            root = os.fspath(source)
            source = open_stores(
                Settings(datastore="local", datastore_root=root, metadata="local"),
                local_root=root,
            )
        self.resolved = source
        self.metadata: MetadataStore = source.metadata
        self.datastore: Datastore = source.datastore
        self.root = source.describe()  # where the runs are, for the page

    def close(self) -> None:
        self.resolved.close()

    def run(self, flow: str, run_id: str) -> RunRecord:
        run = self.metadata.get_run(flow, run_id)
        if run is None:
            if self.metadata.get_flow(flow) is None:
                raise ObjectNotFound(f"no flow {flow!r} in this datastore")
            raise ObjectNotFound(f"flow {flow!r} has no run {run_id!r}")
        return run


# --- flows ------------------------------------------------------------------------------------


class FlowSummary(Record):
    flow: FlowRecord
    latest: RunRecord | None


def list_flows(stores: Stores) -> list[FlowSummary]:
    """Every flow with its newest run (one indexed lookup per flow)."""
    md = stores.metadata
    return [FlowSummary(f, md.latest_run(f.flow)) for f in md.list_flows()]


# --- runs of a flow -----------------------------------------------------------------------------


class RunsPage(Record):
    flow: str
    runs: list[RunRecord]
    page: int  # 1-based
    has_next: bool
    tags: tuple[str, ...]
    status: RunStatus | None


def list_runs(
    stores: Stores,
    flow: str,
    tags: Sequence[str] = (),
    status: RunStatus | None = None,
    page: int = 1,
    per_page: int = RUNS_PER_PAGE,
) -> RunsPage:
    """One page of a flow's runs, newest first, carrying every tag (and the status, if given).

    The store walks its newest-first index, status included, and stops after the page (plus
    one row to know whether there is a next page).
    """
    md = stores.metadata
    if md.get_flow(flow) is None:
        raise ObjectNotFound(f"no flow {flow!r} in this datastore")
    page = max(page, 1)
    start = (page - 1) * per_page
    runs = md.list_runs(flow, tags=tuple(tags), limit=start + per_page + 1, status=status)
    chosen = runs[start : start + per_page]
    return RunsPage(flow, chosen, page, len(runs) > start + per_page, tuple(tags), status)


# --- one run ----------------------------------------------------------------------------------


class StepState(str, enum.Enum):
    PENDING = "pending"  # the run is going and the step has no task yet
    NOT_RUN = "not-run"  # the run ended without reaching the step
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class StepSummary(Record):
    name: str
    state: StepState
    total: int
    succeeded: int
    failed: int
    running: int
    first_task: str | None  # the id of its first task, to link to


class ParamValue(Record):
    name: str
    kind: str  # "parameter", "config" or "constant"
    type: str
    value: str  # a short repr


class StepEdge(Record):
    src: str
    dst: str
    kind: str = ""  # "", "foreach" or "switch"
    label: str = ""  # the switch case that leads to ``dst``


class RunDetail(Record):
    run: RunRecord
    tasks: list[TaskRecord]
    steps: list[StepSummary]  # in graph (show) order, then any other step that ran
    edges: list[StepEdge]
    parameters: list[ParamValue]
    now: float

    @property
    def live(self) -> bool:
        return self.run.status is RunStatus.RUNNING


def _step_state(tasks: list[TaskRecord], running: bool) -> StepState:
    if not tasks:
        return StepState.PENDING if running else StepState.NOT_RUN
    statuses = {t.status for t in tasks}
    if TaskStatus.RUNNING in statuses:
        # a task the runtime never closed stays "running" after its run ended
        return StepState.RUNNING if running else StepState.FAILED
    if TaskStatus.FAILED in statuses:
        return StepState.FAILED
    return StepState.SUCCEEDED


def _summaries(order: list[str], tasks: list[TaskRecord], running: bool) -> list[StepSummary]:
    by_step: dict[str, list[TaskRecord]] = {}
    for t in tasks:
        by_step.setdefault(t.step, []).append(t)
    names = list(order) + [s for s in by_step if s not in order]
    out = []
    for name in names:
        ts = by_step.get(name, [])
        out.append(
            StepSummary(
                name=name,
                state=_step_state(ts, running),
                total=len(ts),
                succeeded=sum(t.status is TaskStatus.SUCCEEDED for t in ts),
                failed=sum(t.status is TaskStatus.FAILED for t in ts),
                running=sum(t.status is TaskStatus.RUNNING for t in ts),
                first_task=ts[0].task_id if ts else None,
            )
        )
    return out


def _static_edges(graph: dict[str, Any]) -> tuple[list[str], list[StepEdge]]:
    steps = graph.get("steps") or {}
    order = [str(name) for name in steps]
    edges = []
    for name, node in steps.items():
        kind = ""
        if node.get("foreach_param") or node.get("num_parallel"):
            kind = "foreach"
        elif node.get("switch_cases") or node.get("condition"):
            kind = "switch"
        cases: dict[str, list[str]] = {}
        for case in node.get("switch_cases") or ():
            if isinstance(case, (list, tuple)) and len(case) == 2:
                cases.setdefault(str(case[1]), []).append(str(case[0]))
        for dst in node.get("out_funcs") or ():
            if dst in steps:
                label = ", ".join(cases.get(str(dst), []))
                edges.append(StepEdge(str(name), str(dst), kind, label))
    return order, edges


def _observed_edges(tasks: list[TaskRecord]) -> list[StepEdge]:
    """Step-to-step edges seen in the tasks' parents (runs saved without their graph)."""
    seen: dict[tuple[str, str], None] = {}
    for t in tasks:
        for parent in t.parents:
            parts = parent.split("/")
            if len(parts) == 4:
                seen.setdefault((parts[2], t.step), None)
    return [StepEdge(a, b) for a, b in seen]


def _run_inputs(stores: Stores, run: RunRecord) -> tuple[dict[str, Any], list[ParamValue]]:
    """The static graph the runtime saved (if any) and the parameter and constant values."""
    ds = stores.datastore
    try:
        index = ds.read_index(params_path(run.flow, run.run_id))
    except IndexNotFound:
        return {}, []
    attrs = index.attrs or {}
    graph = attrs.get("graph")
    if not isinstance(graph, dict):
        graph = {}
    configs = attrs.get("configs") or {}
    names = {**configs, **(attrs.get("parameter_names") or {})}
    rows: list[ParamValue] = []
    for kind, attr_names in (
        ("parameter", attrs.get("parameters") or []),
        ("config", list(configs)),
        ("constant", attrs.get("constants") or []),
    ):
        for attr in attr_names:
            ref = index.artifacts.get(attr)
            if ref is None:
                continue
            try:
                text = safe_repr(ds.load_value(run.flow, ref.key), 400)
            except Exception as ex:  # user classes may not unpickle here: show why, go on
                text = f"(cannot load: {type(ex).__name__}: {ex})"
            rows.append(ParamValue(str(names.get(attr, attr)), kind, ref.type, text))
    return graph, rows


def run_parameters(stores: Stores, run: RunRecord) -> list[ParamValue]:
    """The run's parameter values (not its configs or constants), for the runs list."""
    try:
        return [p for p in _run_inputs(stores, run)[1] if p.kind == "parameter"]
    except HeadwaterException:
        return []


def run_detail(stores: Stores, flow: str, run_id: str) -> RunDetail:
    run = stores.run(flow, run_id)
    tasks = stores.metadata.list_tasks(flow, run_id)
    try:
        graph, parameters = _run_inputs(stores, run)
    except HeadwaterException as ex:  # a damaged inputs index: show the run without them
        graph, parameters = {}, [ParamValue("(unreadable)", "error", "", str(ex))]
    if graph:
        order, edges = _static_edges(graph)
    else:
        order = [s.step for s in stores.metadata.list_steps(flow, run_id)]
        edges = _observed_edges(tasks)
    running = run.status is RunStatus.RUNNING
    return RunDetail(
        run=run,
        tasks=tasks,
        steps=_summaries(order, tasks, running),
        edges=edges,
        parameters=parameters,
        now=time.time(),
    )
