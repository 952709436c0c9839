"""The flow graph as an inline SVG: steps as boxes in layers from start to end, arrows between.

Input is :meth:`headwater.core.graph.FlowGraph.to_dict` (also ``current.graph``). The layout
is :mod:`headwater.cards.graph_layout`'s, drawn top to bottom: each layer is a row, and an
edge that spans rows passes through its waypoints. Loop edges are drawn dashed, on the right.
One step can be highlighted (the card's own step).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from headwater.cards.graph_layout import GraphLayout, is_waypoint, layout_graph

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


def _width(name: str, step: Mapping[str, Any]) -> float:
    return max(110.0, len(_label(name)) * CHAR_W + 28, len(_kind(step)) * 6.4 + 24)


def _place(
    steps: Mapping[str, Any], lay: GraphLayout
) -> tuple[dict[str, float], dict[str, float], dict[str, float], float]:
    """Centre x and y and width of every box (and waypoint), and the widest row's width: each
    layer is a row, centred, its boxes in the layout's order."""
    width = {
        n: DUMMY_W if is_waypoint(n) else _width(n, steps[n]) for row in lay.layers for n in row
    }
    row_w = [sum(width[n] for n in row) + GAP * (len(row) - 1) for row in lay.layers]
    total_w = max(row_w)
    cx: dict[str, float] = {}
    cy: dict[str, float] = {}
    for depth, row in enumerate(lay.layers):
        x = MARGIN + (total_w - row_w[depth]) / 2
        for n in row:
            cx[n] = x + width[n] / 2
            cy[n] = _row_y(depth)
            x += width[n] + GAP
    return cx, cy, width, total_w


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
    edges = [(a, b) for a in order for b in steps[a].get("out_funcs") or () if b in steps]
    edges = list(dict.fromkeys(edges))
    lay = layout_graph(order, edges, str(graph.get("start") or ""))
    back = lay.back
    cx, cy, widths, total_w = _place(steps, lay)
    w = widths.__getitem__
    layer_count = len(lay.layers)

    loop_room = 56 if back else 0
    svg_w = total_w + 2 * MARGIN + loop_room
    svg_h = _row_y(layer_count - 1) + BOX_H / 2 + MARGIN
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
            for dummy in lay.routes[(a, b)]:
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
