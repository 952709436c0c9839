"""One task: its artifacts with previews, stdout and stderr, cards, and every attempt."""

from __future__ import annotations

from collections.abc import Mapping

from headwater.metadata_store.records import AttemptRecord
from headwater.ui import display
from headwater.ui.layout import Page
from headwater.ui.live import task_version
from headwater.ui.markup import Markup, join, render, url
from headwater.ui.queries import Stores
from headwater.ui.task_queries import ArtifactView, LogView, TaskDetail, log_sizes, task_detail


def _artifacts(d: TaskDetail) -> Markup:
    return artifact_table(d.artifacts, d.artifacts_note)


def artifact_table(artifacts: list[ArtifactView], note: str) -> Markup:
    """Artifacts with their type, size and a preview of the value (also the run page's
    results)."""
    if not artifacts:
        return render('<p class="empty">{note}</p>', note=note)

    def row(a: ArtifactView) -> Markup:
        value = (
            render('<div class="value">{v}</div>', v=Markup(a.preview))  # escaped by cards.preview
            if a.preview is not None
            else render('<span class="muted">{n}</span>', n=a.note)
        )
        return render(
            '<tr id="artifact-{name}"><td><code>{name}</code></td><td class="muted">{type}</td>'
            '<td class="num">{size}</td><td>{value}</td></tr>',
            name=a.name,
            type=a.type,
            size=display.size(a.size),
            value=value,
        )

    return render(
        '<div class="wrap"><table class="grid artifacts"><thead><tr><th>name</th><th>type</th>'
        '<th class="num">size</th><th>value</th></tr></thead><tbody>{rows}</tbody></table></div>',
        rows=join(row(a) for a in artifacts),
    )


def _log(d: TaskDetail, log: LogView) -> Markup:
    t = d.task
    full = url("log", t.flow, t.run_id, t.step, t.task_id, str(d.attempt), log.stream)
    note = ""
    if log.truncated:
        note = render(
            '<div class="muted">showing the last part of {size}: <a href="{href}">whole log</a>'
            "</div>",
            size=display.size(log.size),
            href=full,
        )
    text = log.text or ""
    content = (
        render('<pre class="log {s}" id="log-{s}">{text}</pre>', s=log.stream, text=text)
        if text
        else render('<p class="empty" id="log-{s}">No {s} output.</p>', s=log.stream)
    )
    return render(
        '<h3>{s} <a class="muted" href="{href}" target="_blank" rel="noopener">raw</a></h3>'
        "{note}{content}",
        s=log.stream,
        href=full,
        note=note,
        content=content,
    )


def _cards(d: TaskDetail) -> Markup:
    if not d.cards:
        return Markup('<p class="empty">This attempt has no cards.</p>')
    t = d.task
    parts = []
    for card in d.cards:
        src = url("card", t.flow, t.run_id, t.step, t.task_id, str(d.attempt), card.name)
        parts.append(
            render(
                '<div class="card-head"><strong>{title}</strong>'
                '<a href="{src}" target="_blank" rel="noopener">open card</a></div>'
                '<iframe class="card" src="{src}" title="card {title}" sandbox="allow-scripts" '
                'referrerpolicy="no-referrer"></iframe>',
                title=card.title,
                src=src,
            )
        )
    return join(parts)


def _figures(meta: Mapping[str, str]) -> list[str]:
    """Exit code, CPU time, peak memory and artifact I/O time of an attempt, from its task
    metadata."""
    out = []
    try:
        if "exit_code" in meta:
            out.append(f"exit {meta['exit_code']}")
        if "cpu_s" in meta:
            out.append(f"cpu {display.duration(float(meta['cpu_s']))}")
        if "max_rss_kb" in meta:
            out.append(f"max rss {display.size(int(meta['max_rss_kb']) * 1024)}")
        if "artifacts_load_s" in meta:
            out.append(f"loading artifacts {display.duration(float(meta['artifacts_load_s']))}")
        if "artifacts_save_s" in meta:
            out.append(f"saving artifacts {display.duration(float(meta['artifacts_save_s']))}")
    except ValueError:  # written by something else: show what there is
        pass
    return out


def _attempt_row(d: TaskDetail, a: AttemptRecord, meta: Mapping[str, str]) -> Markup:
    t = d.task
    exc = ""
    if a.exception or a.traceback:
        exc = render(
            '<div class="attempt-exc">{headline}</div>{tb}',
            headline=a.exception or "failed",
            tb=render(
                '<details id="tb-{n}"><summary>traceback</summary><pre>{tb}</pre></details>',
                n=a.attempt,
                tb=a.traceback,
            )
            if a.traceback
            else "",
        )
    figures = " · ".join(_figures(meta))
    label = render(
        '<a href="{h}">attempt {n}</a>',
        h=url("task", t.flow, t.run_id, t.step, t.task_id, attempt=a.attempt),
        n=a.attempt,
    )
    if a.attempt == d.attempt:
        label = render("<strong>attempt {n}</strong> (shown)", n=a.attempt)
    return render(
        '<tr><td class="nowrap">{label}</td><td>{badge}</td><td class="nowrap">{started}</td>'
        '<td class="num">{dur}</td><td class="muted">{figures}</td><td>{exc}</td></tr>',
        label=label,
        badge=display.badge(a.status.value),
        started=display.when(a.started_at),
        dur=display.duration(display.span(a.started_at, a.finished_at, d.now)),
        figures=figures,
        exc=exc,
    )


def _attempts(d: TaskDetail) -> Markup:
    if not d.attempts:
        return Markup('<p class="empty">No attempt has started.</p>')
    meta: dict[int, dict[str, str]] = {}
    for m in d.metadata:
        meta.setdefault(m.attempt, {})[m.field] = m.value
    rows = join(_attempt_row(d, a, meta.get(a.attempt, {})) for a in d.attempts)
    return render(
        '<div class="wrap"><table class="grid attempts"><thead><tr><th>attempt</th>'
        '<th>status</th><th>started</th><th class="num">duration</th><th>resources</th>'
        "<th>exception</th></tr></thead><tbody>{rows}</tbody></table></div>",
        rows=rows,
    )


def _failure(d: TaskDetail) -> Markup:
    shown = next((a for a in d.attempts if a.attempt == d.attempt), None)
    if shown is None or not shown.exception:
        return Markup("")
    return render(
        '<div class="error-box" id="exception"><strong>{exc}</strong></div>',
        exc=shown.exception,
    )


def _summary(d: TaskDetail) -> Markup:
    t = d.task
    items = [
        render(
            '<li><a href="{h}" title="{p}">{label}</a></li>',
            h=url("task", *p.split("/")),
            p=p,
            label="/".join(p.split("/")[2:]) if p.split("/")[1] == t.run_id else p,
        )
        if p.count("/") == 3
        else render("<li>{p}</li>", p=p)
        for p in t.parents
    ]
    parents = render('<ul class="inputs">{items}</ul>', items=join(items)) if items else ""
    extra = []
    if t.foreach_index is not None:
        extra.append(render("<dt>foreach index</dt><dd>{i}</dd>", i=t.foreach_index))
    if t.origin_pathspec:
        extra.append(
            render(
                '<dt>cloned from</dt><dd><a href="{h}">{p}</a></dd>',
                h=url("task", *t.origin_pathspec.split("/"))
                if t.origin_pathspec.count("/") == 3
                else "#",
                p=t.origin_pathspec,
            )
        )
    return render(
        '<dl class="kv"><dt>status</dt><dd>{badge}</dd><dt>run</dt><dd><a href="{run_href}">'
        "{flow}/{run_id}</a> {run_badge}</dd><dt>started</dt><dd>{started}</dd>"
        "<dt>finished</dt><dd>{finished}</dd><dt>duration</dt><dd>{dur}</dd>"
        "<dt>attempts</dt><dd>{attempts}</dd><dt>inputs</dt><dd>{parents}</dd>{extra}</dl>",
        badge=display.badge(t.status.value),
        run_href=url("run", t.flow, t.run_id),
        flow=t.flow,
        run_id=t.run_id,
        run_badge=display.badge(d.run.status.value),
        started=display.when(t.created_at),
        finished=display.when(t.finished_at),
        dur=display.duration(display.span(t.created_at, t.finished_at, d.now)),
        attempts=t.attempts,
        parents=parents or Markup('<span class="muted">none</span>'),
        extra=join(extra),
    )


def task_page(
    stores: Stores, flow: str, run_id: str, step: str, task_id: str, query: Mapping[str, list[str]]
) -> Page:
    asked = (query.get("attempt") or (None,))[-1]
    d = task_detail(stores, flow, run_id, step, task_id, asked)
    body = render(
        '<h1>{step}<span class="muted">/</span>{task} <span class="muted">attempt {n}</span>'
        "</h1>{failure}"
        '<div class="panel">{summary}</div>'
        '<h2>Artifacts <span class="muted">({count})</span></h2>{artifacts}'
        '<h2>Logs</h2><div class="logs">{logs}</div>'
        "<h2>Cards</h2>{cards}"
        "<h2>Attempts</h2>{attempts}",
        step=step,
        task=task_id,
        n=d.attempt,
        failure=_failure(d),
        summary=_summary(d),
        count=len(d.artifacts),
        artifacts=_artifacts(d),
        logs=join(_log(d, log) for log in d.logs),
        cards=_cards(d),
        attempts=_attempts(d),
    )
    return Page(
        title=f"{flow}/{run_id}/{step}/{task_id}",
        body=body,
        crumbs=(
            ("flows", "/"),
            (flow, url("flow", flow)),
            (f"run {run_id}", url("run", flow, run_id)),
            (f"{step}/{task_id}", None),
        ),
        poll=url("api", "task", flow, run_id, step, task_id, attempt=asked) if d.live else None,
        version=task_version(d.task, d.attempt, log_sizes(stores, d.path), d.now),
    )
