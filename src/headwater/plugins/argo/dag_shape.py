"""Where each step of a flow goes in an Argo workflow, and what decides whether it runs.

A workflow has one DAG template per *scope*: ``main``, and one per foreach (its body runs
once per split, through ``withParam`` on the split indexes the foreach step writes). A join
closing a foreach is in the scope around it and reads the body's outputs, which Argo gathers
into a JSON list. A loop (a switch going back to an earlier step) becomes a DAG template that
calls itself while the switch goes back.

Inside a scope, a switch's arms run under ``when`` (the switch task's ``branch`` output); a
task after a task runs only when that one succeeded (``depends: X.Succeeded``), so an arm
that was not chosen is skipped and what follows it is omitted. Where the arms meet again, the
task runs when any arm ran, and takes its input from the arm that ran (an expression on the
branches of the switches that chose it).
"""

from __future__ import annotations

import re

from headwater.core.graph import FlowGraph, NodeType
from headwater.exceptions import InvalidFlow
from headwater.plugins.deploy.units import Unit
from headwater.record import Record

MAIN = ""  # the scope outside every foreach


class Node(Record):
    """One task of a DAG template."""

    name: str  # the Argo task name
    kind: str  # "step", "loop" or "body"
    step: str  # the step (a loop's entry step; a body's foreach step)
    scope: str  # the foreach step whose body holds it, or MAIN
    sources: tuple[str, ...] = ()  # node names whose success it follows
    chooser_arms: tuple[tuple[str, str], ...] = ()  # (chooser node, arm step) conditions
    guard: tuple[tuple[str, str], ...] = ()  # every enclosing (chooser node, arm step)


def dns_name(text: str) -> str:
    """A name Kubernetes accepts: lowercase letters, digits, '-' (and '.' in resources)."""
    out = re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-.")
    return out or "x"


def task_name(step: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", step.lower()).strip("-") or "step"


class Shape:
    """The scopes, nodes and edges of a flow compiled for Argo."""

    def __init__(self, graph: FlowGraph, units: list[Unit] | tuple[Unit, ...]) -> None:
        self.graph = graph
        self.loops = {u.id: u for u in units if u.is_loop}
        self.unit_of = {s: u.id for u in units for s in u.steps}
        self.step_node: dict[str, str] = {}  # step -> the node that runs it (or its loop)
        self.nodes: dict[str, dict[str, Node]] = {}  # scope -> name -> node
        self.chains: dict[str, tuple[str, ...]] = {}  # loop unit -> its steps, entry first
        for loop in self.loops.values():
            self._check_loop(loop)
        self._place()
        for scope in self.nodes:
            self._guards(scope)

    # --- placing -----------------------------------------------------------------------------
    def scope_of(self, step: str) -> str:
        parents = self.graph.foreach_parents(step)
        return parents[-1] if parents else MAIN

    def _node_name(self, scope: str, base: str) -> str:
        taken = self.nodes.setdefault(scope, {})
        if base in taken:
            raise InvalidFlow(
                f"two steps compile to the Argo task name {base!r}: rename one of them"
            )
        return base

    def _place(self) -> None:
        self.nodes.setdefault(MAIN, {})
        for name in self.graph.nodes:
            uid = self.unit_of[name]
            if uid in self.loops:
                loop = self.loops[uid]
                if name != loop.entries[0]:
                    continue
                scope = self.scope_of(name)
                node = self._node_name(scope, f"loop-{task_name(name)}")
                self.nodes[scope][node] = Node(node, "loop", name, scope)
                for s in loop.steps:
                    self.step_node[s] = node
                continue
            scope = self.scope_of(name)
            node = self._node_name(scope, task_name(name))
            self.nodes[scope][node] = Node(node, "step", name, scope)
            self.step_node[name] = node
            if self.graph[name].type is NodeType.FOREACH and self.graph[name].foreach_param:
                body = self._node_name(scope, f"{task_name(name)}-foreach")
                self.nodes[scope][body] = Node(body, "body", name, scope, sources=(node,))
                self.nodes.setdefault(name, {})
        for nodes in self.nodes.values():
            for name, shaped in list(nodes.items()):
                if shaped.kind == "body":
                    continue
                nodes[name] = shaped._replace(sources=tuple(self._sources(shaped)))

    def body_node(self, foreach: str) -> str:
        return f"{task_name(foreach)}-foreach"

    def _sources(self, node: Node) -> list[str]:
        """The nodes of the same scope that ``node`` follows."""
        out: list[str] = []
        step = node.step
        joined = self.graph.joined_split(step) if self.graph[step].is_join else None
        if joined is not None and self.graph[joined].type is NodeType.FOREACH:
            return [self.body_node(joined)]
        for parent in self.graph[step].in_funcs:
            if self.unit_of.get(parent) == self.unit_of[step] and node.kind == "loop":
                continue  # the loop's own back edge
            if self.scope_of(parent) != node.scope:
                continue  # the foreach step: the body's inputs
            src = self.step_node[parent]
            if src not in out:
                out.append(src)
        return out

    def is_body_first(self, step: str) -> bool:
        """The first step of a foreach body: its input comes from the body's inputs."""
        return any(
            self.graph[p].type is NodeType.FOREACH
            and self.graph[p].foreach_param is not None
            and self.scope_of(p) != self.scope_of(step)
            for p in self.graph[step].in_funcs
        )

    # --- loops -------------------------------------------------------------------------------
    def _check_loop(self, loop: Unit) -> None:
        """A loop Argo can run: a chain from its entry to one switch that goes back to it."""
        steps = set(loop.steps)
        problem = None
        if len(loop.entries) != 1:
            problem = "it is entered at more than one step"
        else:
            entry = loop.entries[0]
            chain = [entry]
            while problem is None:
                node = self.graph[chain[-1]]
                inside = [t for t in node.out_funcs if t in steps]
                if node.is_switch and entry in inside:
                    if len(inside) != 1:
                        problem = f"switch {node.name!r} goes to more than one step of the loop"
                    break
                if node.is_switch or node.type in (NodeType.SPLIT, NodeType.FOREACH):
                    problem = f"step {node.name!r} inside it splits or switches"
                elif len(inside) != 1 or inside[0] in chain:
                    problem = f"step {node.name!r} does not lead on to one step of it"
                else:
                    chain.append(inside[0])
            if problem is None and set(chain) != steps:
                problem = "it is not one chain of steps"
            if problem is None and self.is_body_first(entry):
                problem = "it starts a foreach body"
            if problem is None:
                self.chains[loop.id] = tuple(chain)
        if problem:
            raise InvalidFlow(
                f"Argo Workflows cannot run the loop through {', '.join(loop.steps)}: {problem} "
                "(a loop must be a chain of steps ending in the switch that goes back to its "
                "first step)"
            )

    def loop_chain(self, loop_node: Node) -> tuple[str, ...]:
        return self.chains[self.unit_of[loop_node.step]]

    def exits(self, node: Node) -> list[str]:
        """Steps a node leads to outside itself (a switch's arms, a loop's exits)."""
        if node.kind == "body":
            join = self.graph[node.step].matching_join
            return [join] if join else []
        if node.kind == "loop":
            last = self.graph[self.loop_chain(node)[-1]]
            return [t for t in last.out_funcs if t != node.step]
        if node.step == self.graph.end:
            return []
        if self.graph[node.step].type is NodeType.FOREACH and self.graph[node.step].foreach_param:
            return []  # its body: the body node
        return list(self.graph[node.step].out_funcs)

    def is_chooser(self, node: Node) -> bool:
        if node.kind == "loop":
            return len(self.exits(node)) > 1
        return node.kind == "step" and self.graph[node.step].is_switch

    # --- guards ------------------------------------------------------------------------------
    def _guards(self, scope: str) -> None:
        nodes = self.nodes[scope]
        succ: dict[str, list[str]] = {n: [] for n in nodes}
        for name, node in nodes.items():
            for src in node.sources:
                succ[src].append(name)

        def reach(start: str) -> set[str]:
            seen = {start}
            work = [start]
            while work:
                for nxt in succ[work.pop()]:
                    if nxt not in seen:
                        seen.add(nxt)
                        work.append(nxt)
            return seen

        order = list(nodes)
        guard: dict[str, list[tuple[str, str]]] = {n: [] for n in nodes}
        arms_of: dict[str, list[tuple[str, str]]] = {n: [] for n in nodes}
        for name in order:
            node = nodes[name]
            if not self.is_chooser(node):
                continue
            arms = [(t, self.step_node[t]) for t in dict.fromkeys(self.exits(node))]
            regions = {t: reach(n) for t, n in arms}
            for target, first in arms:
                others = set().union(*(regions[t] for t, _ in arms if t != target))
                for member in order:
                    if member in regions[target] and member not in others:
                        guard[member].append((name, target))
                arms_of[first].append((name, target))
        for name in order:
            nodes[name] = nodes[name]._replace(
                guard=tuple(guard[name]), chooser_arms=tuple(arms_of[name])
            )

    def relative_guard(self, node: Node, within: Node | None) -> list[tuple[str, str]]:
        """The conditions that choose ``node`` among the ways into ``within``."""
        outer = set(within.guard) if within is not None else set()
        return [g for g in node.guard if g not in outer]
