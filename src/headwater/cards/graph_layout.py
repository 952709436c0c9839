"""Where the steps of a flow graph go: the one layout behind every drawing of a graph.

Cards draw it top to bottom and the web UI left to right (both import this module; cards is
the lower layer). The layout itself has no direction and no pixels:

1. A depth-first walk from the start step marks the edges that close a loop (a switch that
   goes back to an earlier step, or to itself); they are drawn apart, as loops.
2. Every other edge goes forward, and each step sits one layer after its deepest parent
   (layer 0 is the start).
3. An edge that spans several layers gets a *waypoint* in each layer it crosses, so that it
   runs between the boxes of those layers rather than across them.
4. Within a layer, steps and waypoints are ordered by the mean position of their parents in
   the layer before (ties keep the graph's own order), so branches do not cross needlessly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from headwater.record import Record

_WAYPOINT = "\x00"  # waypoint names start with it; step names never do


class GraphLayout(Record):
    layers: tuple[tuple[str, ...], ...]  # per layer, its steps and waypoints in order
    back: frozenset[tuple[str, str]]  # (src, dst) edges drawn as loops
    forward: tuple[tuple[str, str], ...]  # every other edge, in the graph's order
    routes: Mapping[tuple[str, str], tuple[str, ...]]  # waypoints of each forward edge

    def layer_of(self) -> dict[str, int]:
        return {n: i for i, names in enumerate(self.layers) for n in names}


def is_waypoint(name: str) -> bool:
    return name.startswith(_WAYPOINT)


def _back_edges(
    order: Sequence[str], out: Mapping[str, list[str]], start: str | None
) -> set[tuple[str, str]]:
    """Edges that reach a step still on the walk's stack: they close a cycle."""
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    roots = ([start] if start is not None and start in out else []) + list(order)
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(out[root]))]
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


def _layers(order: Sequence[str], forward: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest path from a step without parents (the forward edges form a DAG)."""
    parents: dict[str, list[str]] = {n: [] for n in order}
    for a, b in forward:
        parents[b].append(a)
    layer: dict[str, int] = {}
    for name in order:
        todo = [name]
        while todo:  # iterate, not recurse: deep graphs must not hit the recursion limit
            n = todo[-1]
            if n in layer:
                todo.pop()
                continue
            missing = [p for p in parents[n] if p not in layer]
            if missing:
                todo.extend(missing)
                continue
            todo.pop()
            layer[n] = 1 + max((layer[p] for p in parents[n]), default=-1)
    return layer


def layout_graph(
    names: Sequence[str], edges: Sequence[tuple[str, str]], start: str | None = None
) -> GraphLayout:
    """The layout of the steps ``names`` (in the graph's order) joined by ``edges``; edges to
    or from an unknown step are left out."""
    order = list(dict.fromkeys(names))
    known = set(order)
    edges = list(dict.fromkeys((a, b) for a, b in edges if a in known and b in known))
    out: dict[str, list[str]] = {n: [] for n in order}
    for a, b in edges:
        out[a].append(b)
    back = _back_edges(order, out, start)
    forward = [e for e in edges if e not in back]
    layer = _layers(order, forward)
    rank = {n: float(i) for i, n in enumerate(order)}
    node_layer = dict(layer)
    links: list[tuple[str, str]] = []
    routes: dict[tuple[str, str], tuple[str, ...]] = {}
    for a, b in forward:
        chain = [a]
        for depth in range(layer[a] + 1, layer[b]):
            waypoint = f"{_WAYPOINT}{a}{_WAYPOINT}{b}{_WAYPOINT}{depth}"
            node_layer[waypoint] = depth
            rank[waypoint] = rank[a] + 0.5
            chain.append(waypoint)
        chain.append(b)
        routes[(a, b)] = tuple(chain[1:-1])
        links.extend(zip(chain[:-1], chain[1:], strict=True))
    rows: list[list[str]] = [[] for _ in range(max(node_layer.values(), default=-1) + 1)]
    for n in sorted(node_layer, key=lambda n: rank[n]):
        rows[node_layer[n]].append(n)
    parents: dict[str, list[str]] = {n: [] for n in node_layer}
    for a, b in links:
        parents[b].append(a)
    position: dict[str, float] = {}
    for row in rows:

        def key(n: str) -> tuple[float, float]:
            ps = [position[p] for p in parents[n] if p in position]
            return (sum(ps) / len(ps) if ps else rank[n], rank[n])

        if position:  # the first layer keeps the graph's order
            row.sort(key=key)
        for i, n in enumerate(row):
            position[n] = float(i)
    return GraphLayout(
        layers=tuple(tuple(r) for r in rows),
        back=frozenset(back),
        forward=tuple(forward),
        routes=routes,
    )
