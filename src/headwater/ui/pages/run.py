"""One run: its graph with each step's state, its results (the end step's artifacts),
parameters, and a timeline of its tasks."""

from __future__ import annotations

from headwater.core.ids import AttemptPath
from headwater.metadata_store.records import TaskRecord, TaskStatus
from headwater.ui import display
from headwater.ui.graph_svg import Edge, Node, render_graph
from headwater.ui.layout import Page
from headwater.ui.live import run_version
from headwater.ui.markup import Markup, join, render, url
from headwater.ui.pages.task import artifact_table
from headwater.ui.queries import RunDetail, StepState, StepSummary, Stores, run_detail
from headwater.ui.task_queries import artifact_views
from headwater.ui.timeline import render_timeline


def _detail(s: StepSummary, cloned: int) -> str:
    if s.state is StepState.PENDING:
        return "pending"
    if s.state is StepState.NOT_RUN:
        return "not run"
    if cloned and cloned == s.total:
        return "cloned" if s.total == 1 else f"{s.total} tasks cloned"
    if s.total == 1:
        return s.state.value
    parts = [f"{s.succeeded}/{s.total} tasks done"]
    if s.failed:
        parts.append(f"{s.failed} failed")
    if s.running:
        parts.append(f"{s.running} running")
    return " · ".join(parts)


def _graph(d: RunDetail) -> Markup:
    run = d.run
    cloned: dict[str, int] = {}
    for t in d.tasks:
        if t.origin_pathspec:
            cloned[t.step] = cloned.get(t.step, 0) + 1
    nodes = []
    for s in d.steps:
        href = None
        if s.first_task is not None:
            href = (
                url("task", run.flow, run.run_id, s.name, s.first_task)
                if s.total == 1
                else f"#task-{s.name}-{s.first_task}"
            )
        nodes.append(Node(s.name, s.state.value, _detail(s, cloned.get(s.name, 0)), href))
    svg = render_graph(nodes, [Edge(e.src, e.dst, e.kind, e.label) for e in d.edges])
    if not svg:
        return Markup('<p class="empty">No step has run yet.</p>')
    legend = ""
    if any(e.kind == "foreach" for e in d.edges):
        legend = Markup('<div class="muted">dashed arrows: foreach (one task per item)</div>')
    return render('<div class="panel graph">{svg}{legend}</div>', svg=svg, legend=legend)


def _parameters(d: RunDetail) -> Markup:
    if not d.parameters:
        return Markup('<p class="empty">This run has no parameters.</p>')
    rows = join(
        render(
            '<tr><td>{name}</td><td class="muted">{kind}</td><td class="muted">{type}</td>'
            '<td><pre class="value">{value}</pre></td></tr>',
            name=p.name,
            kind=p.kind,
            type=p.type,
            value=p.value,
        )
        for p in d.parameters
    )
    return render(
        '<div class="wrap"><table class="grid params"><thead><tr><th>name</th><th>kind</th>'
        "<th>type</th><th>value</th></tr></thead><tbody>{rows}</tbody></table></div>",
        rows=rows,
    )


def _end_task(d: RunDetail) -> TaskRecord | None:
    """The succeeded task of the run's last step (the one no edge leaves), if any."""
    sources = {e.src for e in d.edges if e.src != e.dst}
    ends = [
        t
        for t in d.tasks
        if t.status is TaskStatus.SUCCEEDED
        and not t.step.startswith("_")
        and (t.step not in sources if d.edges else t.step == "end")
    ]
    return ends[-1] if ends else None


def _results(stores: Stores, d: RunDetail) -> Markup:
    end = _end_task(d)
    if end is None:
        return Markup(
            '<p class="empty">The end step has not succeeded: no results yet. Each task\'s '
            "artifacts are on its page.</p>"
        )
    path = AttemptPath(end.flow, end.run_id, end.step, end.task_id, end.successful_attempt or 0)
    views, note = artifact_views(stores, path)
    link = render(
        '<p class="muted">The artifacts of <a href="{h}">{step}/{task}</a>, the end step: in '
        "Python, <code>Run(&#x27;{flow}/{run}&#x27;).data</code>.</p>",
        h=url("task", end.flow, end.run_id, end.step, end.task_id),
        step=end.step,
        task=end.task_id,
        flow=end.flow,
        run=end.run_id,
    )
    return render(
        '<div id="results">{link}{table}</div>', link=link, table=artifact_table(views, note)
    )


def _summary(d: RunDetail) -> Markup:
    run = d.run
    tags = join(render('<span class="tag" title="{t}">{t}</span>', t=t) for t in run.tags)
    system = join(render('<span class="tag sys">{t}</span>', t=t) for t in run.system_tags)
    origin = ""
    if run.origin_run_id:
        origin = render(
            '<dt>resumed from</dt><dd><a href="{h}">run {r}</a></dd>',
            h=url("run", run.flow, run.origin_run_id),
            r=run.origin_run_id,
        )
    return render(
        '<dl class="kv"><dt>status</dt><dd>{badge}</dd><dt>started</dt><dd>{started}</dd>'
        "<dt>finished</dt><dd>{finished}</dd><dt>duration</dt><dd>{dur}</dd>"
        "<dt>user</dt><dd>{user}</dd><dt>tags</dt><dd>{tags}{system}</dd>{origin}</dl>",
        badge=display.badge(run.status.value),
        started=display.when(run.created_at),
        finished=display.when(run.finished_at),
        dur=display.duration(display.span(run.created_at, run.finished_at, d.now)),
        user=run.user,
        tags=tags or Markup('<span class="muted">no user tags</span> '),
        system=system,
        origin=origin,
    )


def run_page(stores: Stores, flow: str, run_id: str) -> Page:
    d = run_detail(stores, flow, run_id)
    body = render(
        '<h1>{flow} <span class="muted">run</span> {run_id}</h1>'
        '<div class="panel">{summary}</div>'
        "<h2>Graph</h2>{graph}<h2>Results</h2>{results}<h2>Parameters</h2>{params}"
        '<h2>Tasks <span class="muted">({n})</span></h2>{timeline}',
        flow=flow,
        run_id=run_id,
        summary=_summary(d),
        graph=_graph(d),
        results=_results(stores, d),
        params=_parameters(d),
        n=len(d.tasks),
        timeline=render_timeline(d.run, d.tasks, d.now),
    )
    return Page(
        title=f"{flow}/{run_id}",
        body=body,
        crumbs=(("flows", "/"), (flow, url("flow", flow)), (f"run {run_id}", None)),
        poll=url("api", "run", flow, run_id) if d.live else None,
        version=run_version(d.run, d.tasks, d.now),
    )
