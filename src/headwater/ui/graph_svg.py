"""A run's graph as inline SVG: steps left to right in layers, each box coloured by its state.

Layout: edges that close a loop (a switch that goes back) are found by a depth-first walk
and drawn under the graph; every other edge goes one or more layers right (longest path from
the start); the boxes of a layer are ordered by the mean position of their parents.
"""

from __future__ import annotations

from collections.abc import Sequence

from headwater.record import Record
from headwater.ui.markup import Markup, join, render

NODE_W = 172
NODE_H = 52
GAP_X = 56
GAP_Y = 22
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


def _back_edges(names: list[str], edges: Sequence[Edge]) -> set[tuple[str, str]]:
    out: dict[str, list[str]] = {n: [] for n in names}
    for e in edges:
        out[e.src].append(e.dst)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 on the walk's stack, 2 done
    for root in names:
        if root in state:
            continue
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return back


def _layers(names: list[str], forward: list[Edge]) -> dict[str, int]:
    preds: dict[str, list[str]] = {n: [] for n in names}
    indeg = dict.fromkeys(names, 0)
    succ: dict[str, list[str]] = {n: [] for n in names}
    for e in forward:
        preds[e.dst].append(e.src)
        succ[e.src].append(e.dst)
        indeg[e.dst] += 1
    layer = dict.fromkeys(names, 0)
    ready = [n for n in names if indeg[n] == 0]
    while ready:
        n = ready.pop(0)
        for m in succ[n]:
            layer[m] = max(layer[m], layer[n] + 1)
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    return layer


def _order(names: list[str], layer: dict[str, int], forward: list[Edge]) -> list[list[str]]:
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for n in names:
        columns[layer[n]].append(n)
    preds: dict[str, list[str]] = {n: [] for n in names}
    for e in forward:
        preds[e.dst].append(e.src)
    pos = {n: i for col in columns for i, n in enumerate(col)}
    for col in columns[1:]:

        def key(n: str) -> float:
            ps = [pos[p] for p in preds[n]]
            return sum(ps) / len(ps) if ps else float(pos[n])

        col.sort(key=key)
        for i, n in enumerate(col):
            pos[n] = i
    return columns


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


def render_graph(nodes: Sequence[Node], edges: Sequence[Edge]) -> Markup:
    """The SVG of the graph (an empty string when there are no steps)."""
    if not nodes:
        return Markup("")
    names = [n.name for n in nodes]
    known = set(names)
    edges = [e for e in edges if e.src in known and e.dst in known]
    back = _back_edges(names, edges)
    forward = [e for e in edges if (e.src, e.dst) not in back]
    layer = _layers(names, forward)
    columns = _order(names, layer, forward)
    tallest = max(len(c) for c in columns)
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y
    where: dict[str, tuple[float, float]] = {}
    for i, col in enumerate(columns):
        col_h = len(col) * NODE_H + (len(col) - 1) * GAP_Y
        top = PAD + (height - 2 * PAD - col_h) / 2
        for j, name in enumerate(col):
            where[name] = (PAD + i * (NODE_W + GAP_X), top + j * (NODE_H + GAP_Y))
    width = PAD * 2 + len(columns) * NODE_W + (len(columns) - 1) * GAP_X
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
            x1, y1, x2, y2 = sx + NODE_W, sy + NODE_H / 2, dx, dy + NODE_H / 2
            mid = (x1 + x2) / 2
            d = f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
            lx, ly = mid, (y1 + y2) / 2 - 5
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
