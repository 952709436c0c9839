"""The front page: every flow with its latest run."""

from __future__ import annotations

from headwater.ui import display
from headwater.ui.layout import Page
from headwater.ui.markup import join, render, url
from headwater.ui.queries import Stores, list_flows


def flows_page(stores: Stores) -> Page:
    flows = list_flows(stores)
    rows = []
    for f in flows:
        latest = f.latest
        if latest is None:
            last = render('<td colspan="4" class="muted">no runs</td>')
        else:
            last = render(
                '<td><a href="{href}">run {run_id}</a></td><td>{badge}</td>'
                "<td>{started}</td><td>{user}</td>",
                href=url("run", latest.flow, latest.run_id),
                run_id=latest.run_id,
                badge=display.badge(latest.status.value),
                started=display.when(latest.created_at),
                user=latest.user,
            )
        rows.append(
            render(
                '<tr><td><a class="flow" href="{href}">{name}</a></td>{last}</tr>',
                href=url("flow", f.flow.flow),
                name=f.flow.flow,
                last=last,
            )
        )
    if rows:
        table = render(
            '<div class="wrap"><table class="grid"><thead><tr><th>flow</th><th>latest run</th>'
            "<th>status</th><th>started</th><th>user</th></tr></thead><tbody>{rows}</tbody>"
            "</table></div>",
            rows=join(rows),
        )
    else:
        table = render(
            '<p class="empty">No flows yet: run one with <code>python flow.py run</code>.</p>'
        )
    body = render(
        '<h1>Flows</h1><div class="sub">{n} flows in {root}</div>{table}',
        n=len(flows),
        root=str(stores.root),
        table=table,
    )
    return Page(title="Flows", body=body, crumbs=(("flows", None),))
