"""The flow graph as an inline SVG: steps as boxes in layers from start to end, arrows between.

Input is :meth:`headwater.core.graph.FlowGraph.to_dict` (also ``current.graph``). Layout: a
depth-first walk from the start step marks the edges that loop back (a switch that returns to
an earlier step); every other edge points down, and each step sits one layer below its
deepest parent; within a layer, steps are ordered by the mean position of their parents.
Loop edges are drawn dashed, on the right. One step can be highlighted (the card's own step).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

BOX_H = 46
ROW_H = BOX_H + 44
GAP = 26
MARGIN = 16
CHAR_W = 7.6  # monospace 13px
MAX_LABEL = 28
DUMMY_W = 12.0  # width reserved in a layer for an edge passing through it


def _edges(steps: Mapping[str, Any], order: list[str]) -> list[tuple[str, str]]:
    out = []
    for name in order:
        for target in steps[name].get("out_funcs") or ():
            if target in steps and (name, target) not in out:
                out.append((name, target))
    return out


def _back_edges(steps: Mapping[str, Any], order: list[str], start: str) -> set[tuple[str, str]]:
    """Edges that close a cycle in a depth-first walk from ``start`` (then from the rest)."""
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    roots = ([start] if start in steps else []) + order
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            name, i = stack[-1]
            targets = [t for t in steps[name].get("out_funcs") or () if t in steps]
            if i < len(targets):
                stack[-1] = (name, i + 1)
                t = targets[i]
                if state.get(t) == 1:
                    back.add((name, t))
                elif t not in state:
                    state[t] = 1
                    stack.append((t, 0))
            else:
                state[name] = 2
                stack.pop()
    return back


def _layers(order: list[str], forward: list[tuple[str, str]]) -> dict[str, int]:
    parents: dict[str, list[str]] = {n: [] for n in order}
    for a, b in forward:
        parents[b].append(a)
    layer: dict[str, int] = {}

    def depth(name: str) -> int:
        # forward edges form a DAG: iterate instead of recursing, deepest parent first
        todo = [name]
        while todo:
            n = todo[-1]
            missing = [p for p in parents[n] if p not in layer]
            if missing:
                todo.extend(missing)
                continue
            todo.pop()
            layer[n] = 1 + max((layer[p] for p in parents[n]), default=-1)
        return layer[name]

    for n in order:
        if n not in layer:
            depth(n)
    return layer


def _label(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[: MAX_LABEL - 1] + "…"


def _kind(step: Mapping[str, Any]) -> str:
    kind = step.get("type") or ""
    if kind == "foreach" and step.get("foreach_param"):
        return f"foreach {step['foreach_param']}"
    if kind == "split-switch":
        cond = step.get("condition")
        return f"switch on {cond}" if cond else "switch"
    if step.get("num_parallel") is not None:
        return "parallel"
    return kind if kind in ("split", "join") else ""


class _Layout(Record):
    cx: dict[str, float]  # centre of each box (and dummy node)
    cy: dict[str, float]
    width: dict[str, float]
    routes: dict[str, list[str]]  # "a\x00b" -> the dummy nodes edge a->b passes through
    total_w: float


def _width(name: str, step: Mapping[str, Any]) -> float:
    return max(110.0, len(_label(name)) * CHAR_W + 28, len(_kind(step)) * 6.4 + 24)


def _layout(
    steps: Mapping[str, Any],
    order: list[str],
    forward: list[tuple[str, str]],
    layer: dict[str, int],
) -> _Layout:
    """Where every box goes; a long edge gets a dummy node in each layer it crosses, so it
    runs between boxes, not across them."""
    width = {n: _width(n, steps[n]) for n in order}
    node_layer = dict(layer)
    rank = {n: float(i) for i, n in enumerate(order)}
    links: list[tuple[str, str]] = []
    routes: dict[str, list[str]] = {}
    for a, b in forward:
        chain = [a]
        for depth in range(layer[a] + 1, layer[b]):
            dummy = f"\x00{a}\x00{b}\x00{depth}"
            width[dummy] = DUMMY_W
            node_layer[dummy] = depth
            rank[dummy] = rank[a] + 0.5
            chain.append(dummy)
        chain.append(b)
        routes[f"{a}\x00{b}"] = chain[1:-1]
        links.extend(zip(chain[:-1], chain[1:], strict=True))
    rows: dict[int, list[str]] = {}
    for n in sorted(node_layer, key=lambda n: rank[n]):
        rows.setdefault(node_layer[n], []).append(n)
    row_w = {d: sum(width[n] for n in ns) + GAP * (len(ns) - 1) for d, ns in rows.items()}
    total_w = max(row_w.values())
    cx: dict[str, float] = {}
    for depth in sorted(rows):
        names = rows[depth]

        def key(n: str) -> tuple[float, float]:
            ps = [cx[a] for a, b in links if b == n and a in cx]
            return (sum(ps) / len(ps) if ps else 0.0, rank[n])

        names.sort(key=key)
        x = MARGIN + (total_w - row_w[depth]) / 2
        for n in names:
            cx[n] = x + width[n] / 2
            x += width[n] + GAP
    cy = {n: _row_y(d) for n, d in node_layer.items()}
    return _Layout(cx, cy, width, routes, total_w)


def _row_y(depth: int) -> float:
    return MARGIN + depth * ROW_H + BOX_H / 2


def _forward_path(points: list[tuple[float, float]]) -> str:
    """Curves between rows, straight runs through the dummy nodes of a long edge."""
    (x0, y0), rest = points[0], points[1:]
    d = [f"M{x0:.1f},{y0:.1f}"]
    prev = points[0]
    for i, (x, y) in enumerate(rest):
        if i % 2 == 1:  # from a dummy's top to its bottom
            d.append(f"L{x:.1f},{y:.1f}")
        else:
            mid = (y - prev[1]) / 2
            d.append(f"C{prev[0]:.1f},{prev[1] + mid:.1f} {x:.1f},{y - mid:.1f} {x:.1f},{y:.1f}")
        prev = (x, y)
    return " ".join(d)


def graph_svg(graph: Mapping[str, Any], highlight: str | None = None) -> str:
    """An ``<svg>`` of ``graph`` with ``highlight`` (a step name) drawn in the accent colour."""
    steps: Mapping[str, Any] = graph.get("steps") or {}
    if not steps:
        return '<p class="hw-muted">(no graph)</p>'
    order = list(steps)
    edges = _edges(steps, order)
    back = _back_edges(steps, order, str(graph.get("start") or ""))
    forward = [e for e in edges if e not in back]
    layer = _layers(order, forward)
    lay = _layout(steps, order, forward, layer)
    cx, cy, routes, total_w = lay.cx, lay.cy, lay.routes, lay.total_w
    w = lay.width.__getitem__

    loop_room = 56 if back else 0
    svg_w = total_w + 2 * MARGIN + loop_room
    svg_h = _row_y(max(layer.values())) + BOX_H / 2 + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {svg_w:.0f} {svg_h:.0f}" '
        f'width="{svg_w:.0f}" height="{svg_h:.0f}" role="img" '
        f'aria-label="flow graph of {escape(str(graph.get("name") or ""))}">',
        '<defs><marker id="hw-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#59636e"/></marker></defs>',
    ]
    for a, b in edges:
        dash = ""
        if a == b:  # a switch that loops on itself
            x, y = cx[a] + w(a) / 2, cy[a]
            d = f"M{x:.1f},{y - 10:.1f} C{x + 44:.1f},{y - 34:.1f} {x + 44:.1f},{y + 34:.1f} "
            d += f"{x + 2:.1f},{y + 10:.1f}"
            dash = ' stroke-dasharray="5 4"'
        elif (a, b) in back:
            x1, y1 = cx[a] + w(a) / 2, cy[a]
            x2, y2 = cx[b] + w(b) / 2, cy[b]
            bend = MARGIN + total_w + loop_room - 8
            d = f"M{x1:.1f},{y1:.1f} C{bend:.1f},{y1:.1f} {bend:.1f},{y2:.1f} {x2 + 2:.1f},{y2:.1f}"
            dash = ' stroke-dasharray="5 4"'
        else:
            points = [(cx[a], cy[a] + BOX_H / 2)]
            for dummy in routes[f"{a}\x00{b}"]:
                points += [(cx[dummy], cy[dummy] - BOX_H / 2), (cx[dummy], cy[dummy] + BOX_H / 2)]
            points.append((cx[b], cy[b] - BOX_H / 2 - 2))
            d = _forward_path(points)
        parts.append(
            f'<path d="{d}" fill="none" stroke="#59636e" stroke-width="1.4"{dash} '
            'marker-end="url(#hw-arrow)"/>'
        )
    for n in order:
        step = steps[n]
        on = n == highlight
        x, y = cx[n] - w(n) / 2, cy[n] - BOX_H / 2
        fill, stroke, sw = ("#ddf4ff", "#0969da", 2.5) if on else ("#ffffff", "#8c959f", 1.2)
        kind = _kind(step)
        name_y = cy[n] + (-2 if kind else 5)
        doc = str(step.get("doc") or "").strip().splitlines()
        parts.append(
            f'<g class="hw-step{" hw-current" if on else ""}"><title>{escape(n)}'
            f"{escape(' — ' + doc[0]) if doc else ''}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w(n):.1f}" height="{BOX_H}" rx="6" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>'
            f'<text x="{cx[n]:.1f}" y="{name_y:.1f}" text-anchor="middle" '
            f'font-family="ui-monospace,Menlo,Consolas,monospace" font-size="13" '
            f'font-weight="{700 if on else 500}" fill="#1f2328">{escape(_label(n))}</text>'
        )
        if kind:
            parts.append(
                f'<text x="{cx[n]:.1f}" y="{cy[n] + 14:.1f}" text-anchor="middle" '
                f'font-family="sans-serif" font-size="11" fill="#59636e">{escape(kind)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
