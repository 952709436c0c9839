"""A flow's graph as a production scheduler's DAG sees it: units, and how each gets its tasks.

A scheduler's DAG has no cycles, and a flow's graph may (a switch that loops back). A *unit*
is one node of the compiled DAG: a single step, or a loop (the steps of a strongly connected
component of the graph), whose tasks the compiled node runs one after the other.

A unit is *mapped* when it is inside a foreach (any number of its tasks run, one mapped
instance each) and *plain* otherwise (it runs at most once per run: a switch arm that was not
chosen is skipped). The tasks of a unit come from the reports (``step --output-dir``) of the
units before it: a plain unit plans its own task from them; a mapped unit is expanded over a
list of jobs made either by the one unit before it (its *direct* successor: a foreach opened
by a plain step, or a one-to-one chain inside a foreach) or by a small planning node.
"""

from __future__ import annotations

from headwater.core.graph import FlowGraph, NodeType
from headwater.exceptions import InvalidFlow
from headwater.record import Record


class Unit(Record):
    """One node of a compiled DAG."""

    id: str  # the step's name, or "loop_<first step>"
    steps: tuple[str, ...]  # one step, or the steps of a loop in show order
    entries: tuple[str, ...]  # steps entered from outside the unit
    sources: tuple[str, ...]  # units with an edge into this one
    mapped: bool  # inside a foreach: expanded over jobs
    is_loop: bool = False
    direct: str | None = None  # the mapped unit expanded over this unit's own output
    planned_by: str | None = None  # "self" (plain), "<unit id>" (direct) or "plan" (mapped)


def _components(graph: FlowGraph) -> list[list[str]]:
    """Strongly connected components (Tarjan), iteratively; singletons included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0

    def edges(name: str) -> list[str]:
        if name == graph.end:
            return []
        return [t for t in graph[name].out_funcs if t in graph.nodes]

    for root in graph.nodes:
        if root in index:
            continue
        work = [(root, iter(edges(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            name, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges(child))))
                    advanced = True
                    break
                if child in on_stack:
                    low[name] = min(low[name], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[name])
            if low[name] == index[name]:
                comp = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == name:
                        break
                out.append(comp)
    return out


def _self_loop(graph: FlowGraph, name: str) -> bool:
    return name != graph.end and name in graph[name].out_funcs


def compile_units(graph: FlowGraph) -> list[Unit]:
    """The units of ``graph`` in an order where every unit comes after its sources."""
    order = list(graph.nodes)  # show order: a step after every step that leads to it
    unit_of: dict[str, str] = {}
    members: dict[str, tuple[str, ...]] = {}
    for comp in _components(graph):
        steps = tuple(sorted(comp, key=order.index))
        loop = len(steps) > 1 or _self_loop(graph, steps[0])
        uid = f"loop_{steps[0]}" if loop else steps[0]
        if graph.start in steps and loop:
            raise InvalidFlow(
                f"step {graph.start!r} is inside a loop: a production scheduler cannot start a "
                "run there; loop back to a later step"
            )
        members[uid] = steps
        for s in steps:
            unit_of[s] = uid
    sources: dict[str, list[str]] = {uid: [] for uid in members}
    entries: dict[str, list[str]] = {uid: [] for uid in members}
    for name in order:
        if name == graph.end:
            continue
        for target in graph[name].out_funcs:
            if target not in unit_of:
                continue
            src, dst = unit_of[name], unit_of[target]
            if src == dst:
                continue
            if src not in sources[dst]:
                sources[dst].append(src)
            if target not in entries[dst]:
                entries[dst].append(target)
    uids = sorted(members, key=lambda u: min(order.index(s) for s in members[u]))
    uids = _topological(uids, sources)
    units = {}
    for uid in uids:
        steps = members[uid]
        mapped = any(graph.foreach_parents(s) for s in steps)
        units[uid] = Unit(
            id=uid,
            steps=steps,
            entries=tuple(entries[uid]) or (graph.start,),
            sources=tuple(sources[uid]),
            mapped=mapped,
            is_loop=uid.startswith("loop_") and uid not in graph.nodes,
        )
    return _assign_planning(graph, units)


def _topological(uids: list[str], sources: dict[str, list[str]]) -> list[str]:
    done: list[str] = []
    placed: set[str] = set()
    pending = list(uids)
    while pending:
        for uid in pending:
            if all(s in placed for s in sources[uid]):
                done.append(uid)
                placed.add(uid)
                pending.remove(uid)
                break
        else:  # pragma: no cover - components make the unit graph acyclic
            raise AssertionError(f"cycle among units {pending}")
    return done


def _one_to_one(graph: FlowGraph, src: Unit, dst: Unit) -> bool:
    """Every task of ``src`` leads to exactly one task of ``dst`` (a linear step or a branch
    of a static split, inside a foreach)."""
    if src.is_loop or dst.is_loop or len(src.steps) != 1:
        return False
    node = graph[src.steps[0]]
    target = dst.steps[0]
    if graph[target].is_join or node.is_switch:
        return False
    return node.type in (NodeType.LINEAR, NodeType.SPLIT, NodeType.START) or (
        node.type is NodeType.JOIN and node.foreach_param is None and len(node.out_funcs) == 1
    )


def _assign_planning(graph: FlowGraph, units: dict[str, Unit]) -> list[Unit]:
    direct: dict[str, str] = {}
    planned: dict[str, str] = {}
    for uid, unit in units.items():
        if not unit.mapped:
            planned[uid] = "self"
            continue
        planned[uid] = "plan"
        if len(unit.sources) != 1 or unit.is_loop or graph[unit.steps[0]].is_join:
            continue
        src = units[unit.sources[0]]
        if src.id in direct:
            continue
        opens_foreach = (
            not src.mapped
            and not src.is_loop
            and graph[src.steps[0]].type is NodeType.FOREACH
            and graph[src.steps[0]].foreach_param is not None
        )
        if opens_foreach or (src.mapped and _one_to_one(graph, src, unit)):
            direct[src.id] = uid
            planned[uid] = src.id
    return [u._replace(direct=direct.get(uid), planned_by=planned[uid]) for uid, u in units.items()]
