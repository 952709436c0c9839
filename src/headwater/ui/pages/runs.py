"""The runs of one flow: newest first, filtered by tags and status, a page at a time."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from headwater.metadata_store.records import RunRecord, RunStatus
from headwater.ui import display
from headwater.ui.layout import Page
from headwater.ui.markup import Markup, join, render, url
from headwater.ui.queries import RunsPage, Stores, list_runs, run_parameters


def _status(value: str | None) -> RunStatus | None:
    try:
        return RunStatus(value) if value else None
    except ValueError:
        return None  # an unknown status filters nothing


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


def _link(p: RunsPage, tags: Sequence[str] | None = None, page: int = 1) -> str:
    chosen = list(p.tags if tags is None else tags)
    return url(
        "flow",
        p.flow,
        tag=chosen,
        status=p.status.value if p.status else None,
        page=page if page > 1 else None,
    )


def _tags(p: RunsPage, run: RunRecord) -> Markup:
    chips = []
    for tag in run.tags:
        if tag in p.tags:
            chips.append(render('<span class="tag" title="{t}">{t}</span>', t=tag))
        else:
            href = _link(p, tags=[*p.tags, tag])
            chips.append(
                render(
                    '<a class="tag" href="{href}" title="show runs tagged {t}">{t}</a>',
                    href=href,
                    t=tag,
                )
            )
    return join(chips)


def _run_cell(r: RunRecord) -> Markup:
    link = render(
        '<a href="{href}">run {run_id}</a>', href=url("run", r.flow, r.run_id), run_id=r.run_id
    )
    if not r.origin_run_id:
        return link
    return render(
        '{link}<div class="resumed">resumed from <a href="{h}">run {o}</a></div>',
        link=link,
        h=url("run", r.flow, r.origin_run_id),
        o=r.origin_run_id,
    )


def _parameters(stores: Stores, r: RunRecord) -> Markup:
    values = run_parameters(stores, r)
    if not values:
        return Markup('<span class="muted">none</span>')
    text = ", ".join(f"{p.name}={p.value}" for p in values)
    return render('<div class="params-cell" title="{t}">{t}</div>', t=text)


def _filters(p: RunsPage) -> Markup:
    hidden = join(render('<input type="hidden" name="tag" value="{t}">', t=t) for t in p.tags)
    options = join(
        render(
            '<option value="{v}"{sel}>{label}</option>',
            v=value,
            sel=Markup(" selected") if (p.status.value if p.status else "") == value else "",
            label=value or "any status",
        )
        for value in ["", *(s.value for s in RunStatus)]
    )
    active = join(
        render(
            '<span class="tag" title="{t}">{t} <a href="{href}" aria-label="remove tag filter">'
            "×</a></span>",
            t=t,
            href=_link(p, tags=[x for x in p.tags if x != t]),
        )
        for t in p.tags
    )
    return render(
        '<form class="filters" method="get" action="{action}">{hidden}'
        '<input name="tag" placeholder="filter by tag" aria-label="tag">'
        '<select name="status" aria-label="status">{options}</select>'
        '<button type="submit">Filter</button>{active}{clear}</form>',
        action=url("flow", p.flow),
        hidden=hidden,
        options=options,
        active=active,
        clear=render('<a href="{h}">clear filters</a>', h=url("flow", p.flow))
        if p.tags or p.status
        else "",
    )


def runs_page(stores: Stores, flow: str, query: Mapping[str, list[str]]) -> Page:
    tags = [t for t in query.get("tag", []) if t.strip()]
    p = list_runs(
        stores,
        flow,
        tags=tags,
        status=_status((query.get("status") or (None,))[-1]),
        page=_page_number((query.get("page") or (None,))[-1]),
    )
    now = time.time()
    rows = [
        render(
            '<tr><td class="nowrap">{run}</td><td>{badge}</td>'
            '<td class="nowrap">{started}</td>'
            '<td class="num">{dur}</td><td>{user}</td><td>{params}</td><td>{tags}</td></tr>',
            run=_run_cell(r),
            params=_parameters(stores, r),
            badge=display.badge(r.status.value),
            started=display.when(r.created_at),
            dur=display.duration(display.span(r.created_at, r.finished_at, now)),
            user=r.user,
            tags=_tags(p, r),
        )
        for r in p.runs
    ]
    if rows:
        table = render(
            '<div class="wrap"><table class="grid runs"><thead><tr><th>run</th><th>status</th>'
            '<th>started</th><th class="num">duration</th><th>user</th><th>parameters</th>'
            "<th>tags</th></tr>"
            "</thead><tbody>{rows}</tbody></table></div>",
            rows=join(rows),
        )
    else:
        table = render('<p class="empty">No runs match.</p>')
    pager = []
    if p.page > 1:
        pager.append(render('<a href="{h}">← newer</a>', h=_link(p, page=p.page - 1)))
    pager.append(render('<span class="muted">page {n}</span>', n=p.page))
    if p.has_next:
        pager.append(render('<a href="{h}">older →</a>', h=_link(p, page=p.page + 1)))
    body = render(
        '<h1>{flow}</h1><div class="sub">runs, newest first</div>{filters}{table}'
        '<div class="pager">{pager}</div>',
        flow=flow,
        filters=_filters(p),
        table=table,
        pager=join(pager),
    )
    return Page(
        title=f"{flow} runs",
        body=body,
        crumbs=(("flows", "/"), (flow, None)),
    )
