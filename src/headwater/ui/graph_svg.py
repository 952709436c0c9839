"""A run's graph as inline SVG: steps left to right in layers, each box coloured by its state.

The layout is :mod:`headwater.cards.graph_layout`'s (the one cards use), drawn left to right:
each layer is a column, an edge that spans columns passes through its waypoints, and edges
that close a loop (a switch that goes back) are drawn under the graph.
"""

from __future__ import annotations

from collections.abc import Sequence

from headwater.cards.graph_layout import is_waypoint, layout_graph
from headwater.record import Record
from headwater.ui.markup import Markup, join, render

NODE_W = 172
NODE_H = 52
GAP_X = 56
GAP_Y = 22
WAYPOINT_H = 10  # room a long edge takes in a column it crosses
PAD = 16
LOOP_DROP = 28
NAME_CHARS = 22


class Node(Record):
    name: str
    state: str  # a CSS status class: succeeded, failed, running, pending, not-run
    detail: str  # second line, e.g. "3/3 tasks"
    href: str | None = None


class Edge(Record):
    src: str
    dst: str
    kind: str = ""  # "", "foreach" or "switch"
    label: str = ""  # shown along the edge (a switch case)


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _node(n: Node, x: float, y: float) -> Markup:
    box = render(
        '<g class="node st-{state}"><title>{name}: {detail}</title>'
        '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8"></rect>'
        '<text class="name" x="{tx}" y="{ty1}">{short}</text>'
        '<text x="{tx}" y="{ty2}">{detail}</text></g>',
        state=n.state,
        name=n.name,
        detail=n.detail,
        x=x,
        y=y,
        w=NODE_W,
        h=NODE_H,
        tx=x + 12,
        ty1=y + 21,
        ty2=y + 39,
        short=_short(n.name),
    )
    if n.href:
        return render('<a href="{href}">{box}</a>', href=n.href, box=box)
    return box


def _forward_path(points: list[tuple[float, float]]) -> str:
    """Curves between columns, straight runs through the waypoints of a long edge."""
    (x0, y0), rest = points[0], points[1:]
    d = [f"M{x0:.1f},{y0:.1f}"]
    prev = points[0]
    for i, (x, y) in enumerate(rest):
        if i % 2 == 1:  # across a waypoint's column
            d.append(f"L{x:.1f},{y:.1f}")
        else:
            mid = (x - prev[0]) / 2
            d.append(f"C{prev[0] + mid:.1f},{prev[1]:.1f} {x - mid:.1f},{y:.1f} {x:.1f},{y:.1f}")
        prev = (x, y)
    return " ".join(d)


def render_graph(nodes: Sequence[Node], edges: Sequence[Edge]) -> Markup:
    """The SVG of the graph (an empty string when there are no steps)."""
    if not nodes:
        return Markup("")
    names = [n.name for n in nodes]
    known = set(names)
    edges = [e for e in edges if e.src in known and e.dst in known]
    lay = layout_graph(names, [(e.src, e.dst) for e in edges], names[0])
    back = lay.back

    def size(n: str) -> float:
        return WAYPOINT_H if is_waypoint(n) else NODE_H

    col_h = [sum(size(n) for n in col) + GAP_Y * (len(col) - 1) for col in lay.layers]
    height = PAD * 2 + max(col_h)
    where: dict[str, tuple[float, float]] = {}  # top-left corner (a waypoint: its centre)
    for i, col in enumerate(lay.layers):
        y = PAD + (height - 2 * PAD - col_h[i]) / 2
        x = PAD + i * (NODE_W + GAP_X)
        for name in col:
            where[name] = (x, y + WAYPOINT_H / 2) if is_waypoint(name) else (x, y)
            y += size(name) + GAP_Y
    width = PAD * 2 + len(lay.layers) * NODE_W + (len(lay.layers) - 1) * GAP_X
    paths = []
    labels = []
    loop_y = height - PAD + LOOP_DROP * 0.5
    for e in edges:
        (sx, sy), (dx, dy) = where[e.src], where[e.dst]
        cls = "edge " + e.kind if e.kind else "edge"
        if (e.src, e.dst) in back:
            if e.src == e.dst:
                d = (
                    f"M{sx + NODE_W - 30},{sy} C{sx + NODE_W - 30},{sy - 26} "
                    f"{sx + 30},{sy - 26} {sx + 30},{sy}"
                )
                lx, ly = sx + NODE_W / 2, sy - 22
            else:
                bottom = max(sy, dy) + NODE_H
                loop_y = max(loop_y, bottom + LOOP_DROP)
                d = (
                    f"M{sx + NODE_W / 2},{sy + NODE_H} C{sx + NODE_W / 2},{bottom + LOOP_DROP} "
                    f"{dx + NODE_W / 2},{bottom + LOOP_DROP} {dx + NODE_W / 2},{dy + NODE_H}"
                )
                lx, ly = (sx + dx + NODE_W) / 2, bottom + LOOP_DROP * 0.75 + 12
        else:
            points = [(sx + NODE_W, sy + NODE_H / 2)]
            for waypoint in lay.routes[(e.src, e.dst)]:
                wx, wy = where[waypoint]
                points += [(wx, wy), (wx + NODE_W, wy)]
            points.append((dx, dy + NODE_H / 2))
            d = _forward_path(points)
            (x1, y1), (x2, y2) = points[0], points[1]
            lx, ly = (x1 + x2) / 2, (y1 + y2) / 2 - 5
        paths.append(
            render('<path class="{cls}" d="{d}" marker-end="url(#arrow)"></path>', cls=cls, d=d)
        )
        if e.label:
            labels.append(
                render(
                    '<text class="edge-label" x="{x}" y="{y}" text-anchor="middle">{t}</text>',
                    x=lx,
                    y=ly,
                    t=_short(e.label),
                )
            )
    has_self_loop = any(e.src == e.dst for e in edges)
    top_extra = 30 if has_self_loop else 0
    height = max(height, int(loop_y + PAD)) if back else height
    return render(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        'viewBox="0 {vy} {w} {h}" role="img" aria-label="flow graph">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#98a2b3"></path></marker></defs>{paths}{boxes}</svg>',
        w=width,
        h=height + top_extra,
        vy=-top_extra,
        paths=join(paths + labels),
        boxes=join(_node(n, *where[n.name]) for n in nodes),
    )
