"""A run's tasks as a timeline: one row per task, a bar from its start to its end (to now while
it runs), on one time axis from the start of the run. The rows double as the task list.

A task that ``resume`` cloned ran no code in this run: its row says which task it was cloned
from (a link), instead of a bar, and cloning does not count as its duration."""

from __future__ import annotations

import math
from collections.abc import Sequence

from headwater.metadata_store.records import RunRecord, TaskRecord
from headwater.ui import display
from headwater.ui.markup import Markup, join, render, url

MAX_ROWS = 1000
TICKS = 5  # about this many labelled ticks on the axis


def nice_step(total: float, ticks: int = TICKS) -> float:
    """A round tick interval (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks."""
    raw = max(total / ticks, 1e-6)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover


def _pct(value: float) -> str:
    return f"{min(max(value, 0.0), 100.0):.3f}%"


def _cloned_row(t: TaskRecord) -> Markup:
    origin = t.origin_pathspec or ""
    parts = origin.split("/")
    link = (
        render(
            '<a href="{h}">run {run}, {label}</a>',
            h=url("task", *parts),
            run=parts[1],
            label="/".join(parts[2:]),
        )
        if len(parts) == 4
        else render("{p}", p=origin)
    )
    return render(
        '<tr id="task-{step}-{task}" class="cloned"><td><a href="{href}">{step}/{task}</a></td>'
        "<td>{badge}</td>"
        '<td class="lane"><div class="track cloned-note">cloned from {link}</div></td>'
        '<td class="num muted">cloned</td></tr>',
        step=t.step,
        task=t.task_id,
        href=url("task", t.flow, t.run_id, t.step, t.task_id),
        badge=display.badge(t.status.value),
        link=link,
    )


def render_timeline(run: RunRecord, tasks: Sequence[TaskRecord], now: float) -> Markup:
    if not tasks:
        return Markup('<p class="empty">No task has started yet.</p>')
    ran = [t for t in tasks if not t.origin_pathspec] or list(tasks)
    t0 = min(run.created_at, *(t.created_at for t in ran))
    ends = [t.finished_at if t.finished_at is not None else now for t in ran]
    t1 = max([run.finished_at or 0.0, *ends])
    total = max(t1 - t0, 1e-3)
    shown = sorted(tasks, key=lambda t: (t.created_at, t.task_id))[:MAX_ROWS]
    step = nice_step(total)
    marks = [i * step for i in range(int(total / step) + 1) if i * step <= total * 0.95 or i == 0]
    ticks = join(
        render(
            '<span style="left:{left}">{label}</span>',
            left=_pct(100 * t / total),
            label=display.duration(t),
        )
        for t in marks
    )
    rows = [
        render(
            '<tr class="axis"><td>task</td><td>status</td><td class="lane">'
            '<div class="track">{ticks}</div></td><td class="num">duration</td></tr>',
            ticks=ticks,
        )
    ]
    for t in shown:
        if t.origin_pathspec:
            rows.append(_cloned_row(t))
            continue
        end = t.finished_at if t.finished_at is not None else now
        left = 100 * (t.created_at - t0) / total
        width = 100 * (end - t.created_at) / total
        rows.append(
            render(
                '<tr id="task-{step}-{task}"><td><a href="{href}">{step}/{task}</a>{retries}</td>'
                "<td>{badge}</td>"
                '<td class="lane"><div class="track"><div class="bar st-{status}" '
                'style="left:{left};width:{width}" title="{tip}"></div></div></td>'
                '<td class="num">{dur}</td></tr>',
                step=t.step,
                task=t.task_id,
                href=url("task", t.flow, t.run_id, t.step, t.task_id),
                retries=render(' <span class="muted">({n} attempts)</span>', n=t.attempts)
                if t.attempts > 1
                else "",
                badge=display.badge(t.status.value),
                status=t.status.value,
                left=_pct(left),
                width=_pct(width),
                tip=f"{t.step}/{t.task_id}: {display.when(t.created_at)} → "
                f"{display.when(t.finished_at)}",
                dur=display.duration(end - t.created_at),
            )
        )
    more = ""
    if len(tasks) > MAX_ROWS:
        more = render('<p class="muted">{n} more tasks not shown.</p>', n=len(tasks) - MAX_ROWS)
    return render(
        '<div class="wrap"><table class="timeline">{rows}</table></div>{more}',
        rows=join(rows),
        more=more,
    )
