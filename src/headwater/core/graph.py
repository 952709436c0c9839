"""The static graph of a flow: its steps and transitions, read from the class source.

:meth:`FlowGraph.from_class` looks at every ``@step`` method of a class (inherited ones too),
parses its source and records the ``self.next(...)`` call that ends it. It never raises for a
bad graph: it records what it sees (an unknown target stays in ``out_funcs``, a malformed
``self.next`` leaves a message in ``parse_errors``) and :mod:`headwater.core.graph_check`
turns that into errors. :func:`format_show` renders the graph as ``python flow.py show``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping

from headwater.core.graph_source import StepSource, clean_doc, read_step
from headwater.core.step import is_step
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# A split stack: the splits a path is inside, outermost first, each as (split step, branch),
# where the branch is the split's target step the path went through.
SplitStack = tuple[tuple[str, str], ...]

_MAX_STACKS_PER_STEP = 3  # a valid graph enters each step with exactly one split stack


class NodeType(str, enum.Enum):
    START = "start"
    END = "end"
    LINEAR = "linear"
    SPLIT = "split"
    FOREACH = "foreach"
    SWITCH = "split-switch"
    JOIN = "join"


class GraphNode(Record):
    """One step of a flow as the graph sees it.

    ``split_parents`` are the static splits and foreaches (``SPLIT``/``FOREACH`` steps) that
    enclose the step, outermost first. A join is *outside* the split it closes: its
    ``split_parents`` do not include that split (use :meth:`FlowGraph.joined_split`).
    """

    name: str
    type: NodeType
    out_funcs: tuple[str, ...]
    in_funcs: tuple[str, ...]
    foreach_param: str | None
    condition: str | None
    switch_cases: tuple[tuple[Any, str], ...]
    num_parallel: int | str | None
    is_join: bool
    doc: str
    lineno: int
    source_file: str | None
    decorators: tuple[str, ...]
    matching_join: str | None
    split_parents: tuple[str, ...]
    has_next_call: bool
    next_lineno: int | None = None  # line of the ``self.next`` call, when there is one
    num_args: int = 1  # positional arguments of the step function, ``self`` included
    parse_errors: tuple[str, ...] = ()  # one-line messages about a malformed step/self.next

    @property
    def is_switch(self) -> bool:
        return bool(self.switch_cases) or self.condition is not None or self.type is NodeType.SWITCH

    @property
    def parallel_step(self) -> bool:
        """True for a @parallel step (one started as a gang by ``num_parallel=``)."""
        return "parallel" in self.decorators

    @property
    def opens_split(self) -> bool:
        """True when the transition starts parallel branches (static split, foreach, parallel)."""
        if self.type in (NodeType.SPLIT, NodeType.FOREACH):
            return True
        if self.type is not NodeType.JOIN:
            return False
        if self.foreach_param is not None or self.num_parallel is not None:
            return True
        return not self.is_switch and len(self.out_funcs) > 1


class FlowGraph:
    """The steps of a flow, keyed by name, iterated in ``show`` order."""

    def __init__(
        self,
        name: str,
        nodes: Mapping[str, GraphNode],
        start: str,
        end: str,
        doc: str = "",
        start_candidates: tuple[str, ...] = (),
        end_candidates: tuple[str, ...] = (),
        plain_methods: frozenset[str] = frozenset(),
    ) -> None:
        self.name = name
        self.doc = doc
        self.start = start  # "" when the flow has no start step
        self.end = end  # "" when the flow has no end step
        self.nodes: dict[str, GraphNode] = dict(nodes)
        self.start_candidates = start_candidates  # every step that claims to be the start
        self.end_candidates = end_candidates
        # targets of self.next that name a method of the class which is not a @step
        self.plain_methods = plain_methods

    @classmethod
    def from_class(cls, flow_cls: type) -> FlowGraph:
        """Read the graph of any class whose ``@step`` methods (own or inherited) form a flow.

        Never raises for a bad graph: check it with :func:`headwater.core.graph_check.check_graph`.
        """
        steps: dict[str, StepSource] = {}
        for attr in dir(flow_cls):
            try:
                obj = getattr(flow_cls, attr)
            except Exception:  # a descriptor that fails on the class is not a step
                continue
            if is_step(obj):
                steps[attr] = read_step(attr, obj)

        def role_candidates(role: str) -> tuple[str, ...]:
            found = [s for s in steps.values() if s.role == role or s.name == role]
            found.sort(key=lambda s: (s.role != role, s.lineno, s.name))
            return tuple(s.name for s in found)

        starts, ends = role_candidates("start"), role_candidates("end")
        start = starts[0] if starts else ""
        end = ends[0] if ends else ""
        targets = {t for s in steps.values() for t in s.out_funcs if t not in steps}
        plain = frozenset(t for t in targets if callable(getattr(flow_cls, t, None)))

        raw = {name: _to_node(s, start, end) for name, s in steps.items()}
        order = _show_order(raw, start, end)
        in_funcs: dict[str, list[str]] = {name: [] for name in raw}
        for src in order:
            if src == end:
                continue
            for dst in raw[src].out_funcs:
                if dst in in_funcs and src not in in_funcs[dst]:
                    in_funcs[dst].append(src)
        trace = trace_splits(raw, start, end)
        nodes: dict[str, GraphNode] = {}
        for name in order:
            node = raw[name]
            first = trace.visits.get(name, [()])[0]
            if node.is_join and first and name != end:
                first = first[:-1]
            nodes[name] = node._replace(
                in_funcs=tuple(in_funcs[name]),
                matching_join=trace.matching_join.get(name) if node.opens_split else None,
                split_parents=tuple(split for split, _ in first),
            )
        doc = clean_doc(flow_cls.__doc__) if flow_cls.__doc__ else ""
        return cls(flow_cls.__name__, nodes, start, end, doc, starts, ends, plain)

    def __getitem__(self, name: str) -> GraphNode:
        return self.nodes[name]

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __iter__(self) -> Iterator[GraphNode]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def joined_split(self, join: str) -> str | None:
        """The split or foreach step that ``join`` closes, or None."""
        for node in self.nodes.values():
            if node.matching_join == join:
                return node.name
        return None

    def foreach_parents(self, name: str) -> tuple[str, ...]:
        """The foreach (and num_parallel) steps enclosing ``name``, outermost first."""
        return tuple(
            p for p in self.nodes[name].split_parents if self.nodes[p].type is NodeType.FOREACH
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description (``current.graph``, the UI); steps in show order."""
        steps = {}
        for node in self.nodes.values():
            steps[node.name] = {
                "name": node.name,
                "type": node.type.value,
                "out_funcs": list(node.out_funcs),
                "in_funcs": list(node.in_funcs),
                "foreach_param": node.foreach_param,
                "condition": node.condition,
                "switch_cases": [[case, target] for case, target in node.switch_cases],
                "num_parallel": node.num_parallel,
                "is_join": node.is_join,
                "doc": node.doc,
                "lineno": node.lineno,
                "source_file": node.source_file,
                "decorators": list(node.decorators),
                "matching_join": node.matching_join,
                "split_parents": list(node.split_parents),
                "has_next_call": node.has_next_call,
            }
        return {
            "name": self.name,
            "doc": self.doc,
            "start": self.start,
            "end": self.end,
            "steps": steps,
        }


# --- split tracing -------------------------------------------------------------------------


class SplitTrace:
    """What a walk from start, carrying the stack of open splits, saw.

    ``visits[step]`` lists the distinct split stacks the step is entered with (one in a valid
    graph); ``arrivals[step]`` lists each distinct ``(from_step, stack)`` edge into it.
    ``matching_join[split]`` is the first join that closed the split.
    """

    __slots__ = ("visits", "arrivals", "matching_join")

    def __init__(
        self,
        visits: dict[str, list[SplitStack]],
        arrivals: dict[str, list[tuple[str | None, SplitStack]]],
        matching_join: dict[str, str],
    ) -> None:
        self.visits = visits
        self.arrivals = arrivals
        self.matching_join = matching_join


def trace_splits(nodes: Mapping[str, GraphNode], start: str, end: str) -> SplitTrace:
    """Walk the graph from ``start`` carrying the open splits; switches open none.

    Each step is expanded once per distinct stack (at most a few: more means a bad graph), so
    loops through switches, and loops that wrongly cross a split, terminate.
    """
    trace = SplitTrace({}, {}, {})
    if start not in nodes:
        return trace
    work: list[tuple[str, str | None, SplitStack]] = [(start, None, ())]
    while work:
        name, src, stack = work.pop()
        node = nodes.get(name)
        if node is None:
            continue
        arrivals = trace.arrivals.setdefault(name, [])
        if (src, stack) not in arrivals:
            arrivals.append((src, stack))
        visits = trace.visits.setdefault(name, [])
        if stack in visits or len(visits) >= _MAX_STACKS_PER_STEP or len(stack) > len(nodes):
            continue
        visits.append(stack)
        if name == end:
            continue
        out = stack
        if node.is_join and stack:
            trace.matching_join.setdefault(stack[-1][0], name)
            out = stack[:-1]
        targets = [t for t in node.out_funcs if t in nodes]
        opens = node.opens_split
        for target in reversed(targets):
            work.append((target, name, out + ((name, target),) if opens else out))
    return trace


# --- reading one step ----------------------------------------------------------------------


def _to_node(step: StepSource, start: str, end: str) -> GraphNode:
    is_join = step.num_args == 2
    kinds = step.kinds
    if step.name == end:
        kind = NodeType.END
    elif is_join:
        kind = NodeType.JOIN
    elif kinds & {"foreach", "num_parallel"}:
        kind = NodeType.FOREACH
    elif kinds & {"switch", "condition"}:
        kind = NodeType.SWITCH
    elif len(step.out_funcs) > 1:
        kind = NodeType.SPLIT
    elif step.name == start:
        kind = NodeType.START
    else:
        kind = NodeType.LINEAR
    return GraphNode(
        name=step.name,
        type=kind,
        out_funcs=tuple(step.out_funcs),
        in_funcs=(),
        foreach_param=step.foreach_param,
        condition=step.condition,
        switch_cases=tuple(step.switch_cases),
        num_parallel=step.num_parallel,
        is_join=is_join,
        doc=step.doc,
        lineno=step.lineno,
        source_file=step.source_file,
        decorators=step.decorators,
        matching_join=None,
        split_parents=(),
        has_next_call=step.has_next_call,
        next_lineno=step.next_lineno,
        num_args=step.num_args,
        parse_errors=tuple(step.errors),
    )


def _show_order(nodes: Mapping[str, GraphNode], start: str, end: str) -> list[str]:
    """Depth-first from start, each step after every step that leads to it (back edges aside).

    This is a reverse post-order visiting the targets last-first, which equals Metaflow's
    ``show`` order: a join comes after all of its branches, ``end`` comes last. Steps that
    start never reaches follow, in source order.
    """

    def children(name: str) -> list[str]:
        return [] if name == end else [t for t in nodes[name].out_funcs if t in nodes]

    post: list[str] = []
    seen: set[str] = set()
    if start in nodes:
        seen.add(start)
        stack = [(start, iter(reversed(children(start))))]
        while stack:
            name, pending = stack[-1]
            for child in pending:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(reversed(children(child)))))
                    break
            else:
                stack.pop()
                post.append(name)
    rest = sorted((n for n in nodes if n not in seen), key=lambda n: (nodes[n].lineno, n))
    return post[::-1] + rest


# --- show ----------------------------------------------------------------------------------
