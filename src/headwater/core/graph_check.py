"""The graph rules of API.md section 1, checked on a :class:`FlowGraph`.

:func:`check_graph` returns every violation as an :class:`InvalidFlow` (one line naming the
step, its line and the fix), ordered by rule (6 and 8 together), then by show order;
:func:`validate_graph` raises the first. A rule that needs a sound base is skipped when the
base is missing (no split analysis without a start step), and an error that follows from one
already reported is not repeated, so each mistake in a flow gives one message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from headwater.core.graph import FlowGraph, GraphNode, SplitStack, trace_splits
from headwater.core.graph_source import step_ref as _ref
from headwater.exceptions import InvalidFlow

RESERVED_STEP_NAMES = frozenset({"name", "next", "input", "index", "cmd"})
_STEP_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def validate_graph(graph: FlowGraph) -> None:
    """Raise the first rule violation of ``graph``, if any."""
    errors = check_graph(graph)
    if errors:
        raise errors[0]


def check_graph(graph: FlowGraph) -> list[InvalidFlow]:
    """Every rule violation of ``graph``; an empty list means the flow is valid."""
    errors: list[InvalidFlow] = []
    errors += _check_start_end(graph)
    errors += _check_names(graph)
    errors += _check_next_calls(graph)
    errors += _check_transitions(graph)
    errors += _check_reachability(graph)
    errors += _check_splits_and_joins(graph)  # rules 6 and 8
    errors += _check_joins_do_not_split(graph)
    errors += _check_cycles(graph)
    errors += _check_end_not_join(graph)
    return errors


def _err(node: GraphNode, text: str, kind: str = "step", line: int | None = None) -> InvalidFlow:
    lineno = line or node.lineno
    return InvalidFlow(f"{_ref(node.name, lineno, kind)} {text}", step=node.name, lineno=lineno)


# rule 1 ------------------------------------------------------------------------------------


def _check_start_end(graph: FlowGraph) -> list[InvalidFlow]:
    errors = []
    for role in ("start", "end"):
        found = graph.start_candidates if role == "start" else graph.end_candidates
        if not found:
            errors.append(
                InvalidFlow(
                    f"flow {graph.name} has no {role} step: add a @step method named {role}"
                    f" (or mark one with @step({role}=True))"
                )
            )
        elif len(found) > 1:
            node = graph[found[1]]
            names = ", ".join(f"'{n}'" for n in found)
            errors.append(
                _err(
                    node,
                    f"is one of several {role} steps ({names}): keep exactly one {role} step"
                    f" (a step named {role} counts as one)",
                )
            )
    if graph.start and graph.start == graph.end:
        errors.append(_err(graph[graph.start], "is both the start and the end step: use two steps"))
    return errors


# rule 2 ------------------------------------------------------------------------------------


def _check_names(graph: FlowGraph) -> list[InvalidFlow]:
    errors = []
    for node in graph:
        if node.name in RESERVED_STEP_NAMES:
            reserved = ", ".join(sorted(RESERVED_STEP_NAMES))
            errors.append(_err(node, f"uses a reserved name ({reserved}): rename the step"))
        elif not _STEP_NAME.match(node.name):
            errors.append(
                _err(
                    node,
                    "has an invalid name: step names use lowercase letters, digits and"
                    " underscores, starting with a letter; rename it",
                )
            )
    return errors


# rule 3 ------------------------------------------------------------------------------------


def _check_next_calls(graph: FlowGraph) -> list[InvalidFlow]:
    errors = []
    for node in graph:
        if node.name in graph.end_candidates:
            if node.has_next_call:
                errors.append(
                    _err(
                        node,
                        "calls self.next, but the end step is the last step: remove the call",
                        kind="end step",
                        line=node.next_lineno,
                    )
                )
        elif node.source_file is None:
            errors.append(
                _err(
                    node,
                    "has no readable source, so its self.next call cannot be read: define the"
                    " flow in a .py file",
                )
            )
        elif not node.has_next_call:
            errors.append(
                _err(
                    node,
                    "does not end with self.next(...): make a call like self.next(self.end)"
                    " its last statement",
                )
            )
    return errors


# rule 4 ------------------------------------------------------------------------------------


def _check_transitions(graph: FlowGraph) -> list[InvalidFlow]:
    errors: list[InvalidFlow] = []
    for node in graph:
        if node.name == graph.end:
            continue
        errors.extend(
            InvalidFlow(msg, step=node.name, lineno=node.next_lineno or node.lineno)
            for msg in node.parse_errors
        )
        for target in node.out_funcs:
            if target in graph:
                continue
            if target in graph.plain_methods:
                fix = f"'{target}' is a method but not a step: put @step above def {target}"
            else:
                from headwater.core.suggest import did_you_mean

                fix = did_you_mean(target, graph.nodes) or (
                    f"define a @step method named {target}, or fix the name"
                )
            errors.append(
                _err(node, f"goes to unknown step '{target}': {fix}", line=node.next_lineno)
            )
        if node.num_parallel is not None:
            for target in node.out_funcs:
                if target in graph and "parallel" not in graph[target].decorators:
                    errors.append(
                        _err(
                            node,
                            f"starts {target} with num_parallel=, but '{target}' has no"
                            f" @parallel decorator: add @parallel above @step on {target}",
                            line=node.next_lineno,
                        )
                    )
    for node in graph:
        if "parallel" not in node.decorators:
            continue
        for src in node.in_funcs:
            if graph[src].num_parallel is None:
                errors.append(
                    _err(
                        node,
                        f"has @parallel but step '{src}' goes to it without num_parallel=:"
                        f" use self.next(self.{node.name}, num_parallel=N) in '{src}'",
                    )
                )
    return errors


def _dead_ends(graph: FlowGraph) -> set[str]:
    """Steps whose transition is already reported as broken (rules 3 and 4)."""
    return {
        node.name
        for node in graph
        if node.name not in graph.end_candidates
        and (
            not node.has_next_call
            or node.parse_errors
            or any(t not in graph for t in node.out_funcs)
        )
    }


def _successors(graph: FlowGraph, name: str) -> Iterable[str]:
    if name in graph.end_candidates:
        return ()
    return (t for t in graph[name].out_funcs if t in graph)


# rule 5 ------------------------------------------------------------------------------------


def _reach(graph: FlowGraph, roots: Iterable[str]) -> set[str]:
    reached = set(roots)
    todo = list(reached)
    while todo:
        for target in _successors(graph, todo.pop()):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    return reached


def _check_reachability(graph: FlowGraph) -> list[InvalidFlow]:
    if not graph.start:
        return []
    reached = _reach(graph, graph.start_candidates)
    # steps that can finish: the end step, and the broken steps reported by rules 3 and 4
    finishing = set(graph.end_candidates) | _dead_ends(graph)
    changed = True
    while changed:
        changed = False
        for node in graph:
            if node.name not in finishing and any(
                t in finishing for t in _successors(graph, node.name)
            ):
                finishing.add(node.name)
                changed = True
    stuck = [n.name for n in graph if n.name in reached and n.name not in finishing]
    # while a reached step's transition is broken or stuck, the true successors are unknown:
    # say nothing about steps that look unreached
    unsure = bool(stuck) or any(n in reached for n in _dead_ends(graph))
    extra_roles = {  # when there are several start or end steps, rule 1 says so
        name
        for found in (graph.start_candidates, graph.end_candidates)
        if len(found) > 1
        for name in found
    }
    errors = [
        _err(
            node,
            f"is never reached from the start step: go to it with self.next(self.{node.name})"
            " from another step, or remove it",
        )
        for node in graph
        if node.name not in reached and not unsure and node.name not in extra_roles
    ]
    if not graph.end:
        return errors
    # report each loop with no way out once, when it holds a switch (rule 9 covers the rest)
    loops = {name: _reach(graph, _successors(graph, name)) for name in stuck}
    reported: set[str] = set()
    for name in stuck:
        if name in reported or name not in loops[name]:
            continue
        loop = [n for n in stuck if name in loops[n] and n in loops[name]]
        reported.update(loop)
        terminal = loops[name] <= set(loop)
        if not terminal or not any(graph[n].is_switch for n in loop):
            continue
        steps = ", ".join(f"'{n}'" for n in loop)
        errors.append(
            _err(
                graph[name],
                f"loops ({steps}) with no way out to the end step '{graph.end}': give the"
                " switch a case that leads toward end",
            )
        )
    return errors


# rules 6 and 8 -----------------------------------------------------------------------------


def _where(stack: SplitStack) -> str:
    if not stack:
        return "outside any split"
    return "inside split " + " > ".join(f"'{split}'" for split, _ in stack)


def _by_split(arrivals: list[tuple[str | None, SplitStack]]) -> str:
    """``'a1', 'a2' from split 'a'; 'b' from split 'start'``: where each incoming step is."""
    groups: dict[str, list[str]] = {}
    for src, stack in arrivals:
        key = f"from split '{stack[-1][0]}'" if stack else "from outside any split"
        if f"'{src}'" not in groups.setdefault(key, []):
            groups[key].append(f"'{src}'")
    return "; ".join(f"{', '.join(srcs)} {key}" for key, srcs in groups.items())


def _check_splits_and_joins(graph: FlowGraph) -> list[InvalidFlow]:
    if not graph.start or graph.start not in graph:
        return []
    trace = trace_splits(graph.nodes, graph.start, graph.end)
    # A step that leaves with several split stacks is where paths wrongly meet; it and the
    # steps after it (and after a join already reported) are "suspect": their errors echo.
    tangled = {
        name
        for name, stacks in trace.visits.items()
        if len({s[:-1] if s and graph[name].is_join else s for s in stacks}) > 1
    }
    suspect: set[str] = set()
    errors: list[InvalidFlow] = []
    for node in graph:  # show order: the steps leading to a step come before it
        arrivals = trace.arrivals.get(node.name, [])
        if not arrivals or node.name == graph.start:
            continue
        sources = [src for src, _ in arrivals]
        if node.name in tangled or any(src in suspect for src in sources):
            suspect.add(node.name)
        if node.name == graph.end:
            open_stacks = [s for src, s in arrivals if s and src not in suspect]
            if open_stacks and not node.is_join:
                splits = ", ".join(f"'{split}'" for split, _ in reversed(open_stacks[0]))
                errors.append(
                    _err(
                        node,
                        f"is reached inside split {splits} before it is joined: make every"
                        " branch lead to a join step (def join(self, inputs)) before end",
                        kind="end step",
                    )
                )
        elif node.is_join:
            if not any(src in suspect for src in sources):
                found = _check_join(graph, node, arrivals)
                errors += found
                if found:
                    suspect.add(node.name)
        elif node.name in tangled and not all(src in suspect for src in sources):
            errors.append(_merge_error(node, arrivals))
    return errors


def _merge_error(node: GraphNode, arrivals: list[tuple[str | None, SplitStack]]) -> InvalidFlow:
    stacks = list(dict.fromkeys(s for _, s in arrivals))
    names = {tuple(split for split, _ in s) for s in stacks}
    if len(names) == 1:
        depth = next(i for i in range(len(stacks[0])) if len({s[i] for s in stacks}) > 1)
        split = stacks[0][depth][0]
        branches = ", ".join(dict.fromkeys(f"'{s[depth][1]}'" for s in stacks))
        return _err(
            node,
            f"gets inputs from several branches ({branches}) of split '{split}': give it an"
            f" `inputs` argument to make it a join: def {node.name}(self, inputs)",
        )
    first: dict[str | None, SplitStack] = {}
    for src, stack in arrivals:
        first.setdefault(src, stack)
    paths = "; ".join(f"from '{src}' {_where(s)}" for src, s in first.items())
    return _err(
        node,
        f"is reached through different splits ({paths}): join each split before its branches"
        " meet other paths",
    )


def _check_join(
    graph: FlowGraph, node: GraphNode, arrivals: list[tuple[str | None, SplitStack]]
) -> list[InvalidFlow]:
    stacks = [s for _, s in arrivals]
    if not any(stacks):
        hint = " (switch branches meet at plain steps)" if len(node.in_funcs) > 1 else ""
        return [
            _err(
                node,
                f"takes `inputs` but is not preceded by a split{hint}: remove the argument"
                f" (def {node.name}(self)), or split before it with self.next(self.a, self.b)"
                " or foreach=",
                kind="join step",
            )
        ]
    closing = {(s[:-1], s[-1][0]) if s else None for s in stacks}
    if len(closing) > 1:
        return [
            _err(
                node,
                f"joins steps from unrelated splits ({_by_split(arrivals)}): a join closes one"
                " split; make only the branches of one split lead to it",
                kind="join step",
            )
        ]
    split = stacks[0][-1][0]
    errors = []
    covered = {s[-1][1] for s in stacks}
    missing = [t for t in graph[split].out_funcs if t in graph and t not in covered]
    if missing:
        names = ", ".join(f"'{t}'" for t in missing)
        errors.append(
            _err(
                node,
                f"does not get inputs from every branch of split '{split}': branch {names}"
                f" never leads to it; make every branch of '{split}' end at '{node.name}'",
                kind="join step",
            )
        )
    if any(src == split for src, _ in arrivals):
        errors.append(
            _err(
                node,
                f"directly follows split '{split}': put at least one step between a split and"
                " its join",
                kind="join step",
            )
        )
    return errors


# rule 7 -----------------------------------------------------------------------------------


def _check_joins_do_not_split(graph: FlowGraph) -> list[InvalidFlow]:
    return [
        _err(
            node,
            f"both joins and {'switches' if node.is_switch else 'splits'}: a join goes on to"
            " one step; add a step after it that does the "
            f"{'switch' if node.is_switch else 'split'}",
            kind="join step",
            line=node.next_lineno,
        )
        for node in graph
        if node.is_join
        and node.name not in (graph.start, graph.end)
        and (node.opens_split or node.is_switch)
    ]


# rule 9 ------------------------------------------------------------------------------------


def _check_cycles(graph: FlowGraph) -> list[InvalidFlow]:
    """Every loop must pass through a switch: without switch edges the graph is acyclic."""

    def successors(name: str) -> list[str]:
        node = graph[name]
        return [] if node.is_switch else list(_successors(graph, name))

    errors = []
    done: set[str] = set()
    for root in graph.nodes:
        if root in done:
            continue
        active = {root}
        stack = [(root, iter(successors(root)))]
        while stack:
            name, pending = stack[-1]
            for target in pending:
                if target in active:
                    errors.append(
                        _err(
                            graph[name],
                            f"goes back to step '{target}', making a loop without a switch:"
                            " only a switch (self.next({...}, condition=...)) may loop back",
                            line=graph[name].next_lineno,
                        )
                    )
                elif target not in done:
                    active.add(target)
                    stack.append((target, iter(successors(target))))
                    break
            else:
                stack.pop()
                active.discard(name)
                done.add(name)
    return errors


# rule 10 ----------------------------------------------------------------------------------


def _check_end_not_join(graph: FlowGraph) -> list[InvalidFlow]:
    errors = []
    for node in graph:
        if node.is_join and node.name == graph.end:
            errors.append(
                _err(
                    node,
                    "takes an `inputs` argument, but the end step cannot be a join: add a join"
                    " step before end and make end def end(self)",
                    kind="end step",
                )
            )
        elif node.is_join and node.name == graph.start:
            errors.append(
                _err(
                    node,
                    "takes an `inputs` argument, but the start step cannot be a join: make it"
                    f" def {node.name}(self)",
                    kind="start step",
                )
            )
    return errors
