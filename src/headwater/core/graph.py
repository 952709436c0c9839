"""The static graph of a flow: its steps and transitions, read from the class source.

:meth:`FlowGraph.from_class` looks at every ``@step`` method of a class (inherited ones too),
parses its source and records the ``self.next(...)`` call that ends it. It never raises for a
bad graph: it records what it sees (an unknown target stays in ``out_funcs``, a malformed
``self.next`` leaves a message in ``parse_errors``) and :mod:`headwater.core.graph_check`
turns that into errors. :func:`format_show` renders the graph as ``python flow.py show``.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import inspect
import linecache
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from headwater.core.step import is_step

# A split stack: the splits a path is inside, outermost first, each as (split step, branch),
# where the branch is the split's target step the path went through.
SplitStack = tuple[tuple[str, str], ...]

_NEXT_KEYWORDS = ("foreach", "condition", "num_parallel")
_MAX_STACKS_PER_STEP = 3  # a valid graph enters each step with exactly one split stack


class NodeType(str, enum.Enum):
    START = "start"
    END = "end"
    LINEAR = "linear"
    SPLIT = "split"
    FOREACH = "foreach"
    SWITCH = "split-switch"
    JOIN = "join"


@dataclass(frozen=True)
class GraphNode:
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
    def opens_split(self) -> bool:
        """True when the transition starts parallel branches (static split, foreach, parallel)."""
        if self.type in (NodeType.SPLIT, NodeType.FOREACH):
            return True
        if self.type is not NodeType.JOIN:
            return False
        if self.foreach_param is not None or self.num_parallel is not None:
            return True
        return not self.is_switch and len(self.out_funcs) > 1


def step_ref(name: str, lineno: int | None, kind: str = "step") -> str:
    """``step 'name' (line 12)``: how every graph message names a step."""
    return f"{kind} '{name}' (line {lineno})" if lineno else f"{kind} '{name}'"


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
        steps: dict[str, _Step] = {}
        for attr in dir(flow_cls):
            try:
                obj = getattr(flow_cls, attr)
            except Exception:  # a descriptor that fails on the class is not a step
                continue
            if is_step(obj):
                steps[attr] = _read_step(attr, obj)

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
            nodes[name] = dataclasses.replace(
                node,
                in_funcs=tuple(in_funcs[name]),
                matching_join=trace.matching_join.get(name) if node.opens_split else None,
                split_parents=tuple(split for split, _ in first),
            )
        doc = inspect.cleandoc(flow_cls.__doc__) if flow_cls.__doc__ else ""
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


@dataclass
class SplitTrace:
    """What a walk from start, carrying the stack of open splits, saw.

    ``visits[step]`` lists the distinct split stacks the step is entered with (one in a valid
    graph); ``arrivals[step]`` lists each distinct ``(from_step, stack)`` edge into it.
    ``matching_join[split]`` is the first join that closed the split.
    """

    visits: dict[str, list[SplitStack]]
    arrivals: dict[str, list[tuple[str | None, SplitStack]]]
    matching_join: dict[str, str]


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


@dataclass
class _Step:
    name: str
    role: str | None
    doc: str
    lineno: int
    source_file: str | None
    decorators: tuple[str, ...]
    num_args: int = 1
    has_next_call: bool = False
    next_lineno: int | None = None
    out_funcs: list[str] = dataclasses.field(default_factory=list)
    foreach_param: str | None = None
    condition: str | None = None
    switch_cases: list[tuple[Any, str]] = dataclasses.field(default_factory=list)
    num_parallel: int | str | None = None
    kinds: set[str] = dataclasses.field(default_factory=set)  # foreach/condition/... /switch
    errors: list[str] = dataclasses.field(default_factory=list)


def _read_step(name: str, func: Any) -> _Step:
    try:
        target = inspect.unwrap(func)
    except ValueError:
        target = func
    doc = getattr(target, "__doc__", None) or getattr(func, "__doc__", None)
    code = getattr(target, "__code__", None)
    step = _Step(
        name=name,
        role=getattr(func, "step_role", None),
        doc=inspect.cleandoc(doc) if isinstance(doc, str) else "",
        lineno=code.co_firstlineno if code else 0,
        source_file=None,
        decorators=tuple(
            getattr(d, "name", type(d).__name__) for d in getattr(func, "decorators", ()) or ()
        ),
        num_args=code.co_argcount if code else 1,
    )
    parsed = _parse_function(target)
    if parsed is None:
        return step  # source not available: source_file stays None
    fn, offset = parsed
    try:
        step.source_file = inspect.getsourcefile(target) or inspect.getfile(target)
    except TypeError:
        step.source_file = "<unknown>"
    step.lineno = fn.lineno + offset
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    step.num_args = len(positional)
    ref = step_ref(name, step.lineno)
    if args.vararg or args.kwarg or args.kwonlyargs or step.num_args not in (1, 2):
        step.errors.append(
            f"{ref} must take (self) or, for a join, (self, inputs): fix its arguments"
        )
    self_name = positional[0].arg if positional else "self"
    tail = fn.body[-1]
    if (
        isinstance(tail, ast.Expr)
        and isinstance(tail.value, ast.Call)
        and _self_attr(tail.value.func, self_name) == "next"
    ):
        step.has_next_call = True
        step.next_lineno = tail.lineno + offset
        _read_next(step, tail.value, self_name)
    return step


_FILE_FUNCS: dict[tuple[str, int], dict[int, ast.FunctionDef | ast.AsyncFunctionDef]] = {}


def _functions_in_file(filename: str) -> dict[int, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function of a source file by its first line (first decorator, else ``def``);
    the file is parsed once, however many steps it holds."""
    lines = linecache.getlines(filename)
    key = (filename, len(lines))
    if key not in _FILE_FUNCS:
        found: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                found[first] = node
        _FILE_FUNCS[key] = found
    return _FILE_FUNCS[key]


def _parse_function(func: Any) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, int] | None:
    """The function's AST and the offset that turns its line numbers into file lines."""
    code = getattr(func, "__code__", None)
    filename = getattr(code, "co_filename", None)
    if code is not None and filename and not filename.startswith("<"):
        fn = _functions_in_file(filename).get(code.co_firstlineno)
        if fn is not None and fn.name == code.co_name:
            return fn, 0
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError):
        return None
    source = "".join(lines)
    # dedent fails on a body holding a less-indented multi-line string; wrapping does not.
    for text, shift in ((textwrap.dedent(source), 0), ("if 1:\n" + source, 1)):
        try:
            body = ast.parse(text).body
        except SyntaxError:
            continue
        stmt = body[0] if body else None
        if shift and isinstance(stmt, ast.If):
            stmt = stmt.body[0]
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return stmt, first - 1 - shift
    return None


def _self_attr(expr: ast.expr, self_name: str) -> str | None:
    """``x`` for ``self.x``, else None."""
    if (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == self_name
    ):
        return expr.attr
    return None


def _read_next(step: _Step, call: ast.Call, self_name: str) -> None:
    ref = step_ref(step.name, step.next_lineno)
    errors = step.errors
    args = list(call.args)
    if any(isinstance(a, ast.Starred) for a in args) or any(k.arg is None for k in call.keywords):
        errors.append(
            f"{ref} builds self.next(...) with * or **: list its steps explicitly,"
            " e.g. self.next(self.a, self.b)"
        )
        args = [a for a in args if not isinstance(a, ast.Starred)]
    switch = [a for a in args if isinstance(a, ast.Dict)]
    if switch:
        step.kinds.add("switch")
        if len(args) > 1:
            errors.append(
                f"{ref} mixes a dict of cases with other steps in self.next: a switch is"
                " self.next({'x': self.a, 'y': self.b}, condition='attr')"
            )
        _read_cases(step, switch[0], self_name, ref)
    else:
        for arg in args:
            target = _self_attr(arg, self_name)
            if target is None:
                errors.append(
                    f"{ref} passes {ast.unparse(arg)} to self.next: name each next step"
                    " as self.<step>"
                )
            elif target in step.out_funcs:
                errors.append(f"{ref} goes to step '{target}' twice: name each branch once")
            else:
                step.out_funcs.append(target)
        if not args:
            errors.append(f"{ref} calls self.next() with no step: e.g. self.next(self.end)")
    for kw in call.keywords:
        if kw.arg is None:
            continue
        if kw.arg not in _NEXT_KEYWORDS:
            errors.append(
                f"{ref} passes {kw.arg}= to self.next: only foreach=, condition= and"
                " num_parallel= are allowed"
            )
            continue
        step.kinds.add(kw.arg)
        if kw.arg == "num_parallel":
            step.num_parallel = _read_num_parallel(kw.value, ref, errors)
            continue
        value = kw.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            if not value.value.isidentifier():
                errors.append(
                    f"{ref} has {kw.arg}={value.value!r}: it must name an artifact of the step,"
                    f" e.g. {kw.arg}='items'"
                )
            if kw.arg == "foreach":
                step.foreach_param = value.value
            else:
                step.condition = value.value
        else:
            hint = _self_attr(value, self_name) or "items"
            errors.append(
                f"{ref} has {kw.arg}={ast.unparse(value)}: give the artifact's name as a"
                f" string literal, e.g. {kw.arg}='{hint}'"
            )
    _check_next_shape(step, bool(switch), len(args), ref)


def _read_cases(step: _Step, cases: ast.Dict, self_name: str, ref: str) -> None:
    seen: set[tuple[type, Any]] = set()
    for key, value in zip(cases.keys, cases.values, strict=True):
        if key is None:
            step.errors.append(f"{ref} unpacks ** into its switch cases: write every case out")
            continue
        try:
            case = ast.literal_eval(key)
        except ValueError:
            case = None
        if type(case) not in (str, int, bool):
            step.errors.append(
                f"{ref} has switch case {ast.unparse(key)}: case values must be str, int or"
                " bool literals"
            )
            continue
        target = _self_attr(value, self_name)
        if target is None:
            step.errors.append(
                f"{ref} maps case {case!r} to {ast.unparse(value)}: map it to a step, e.g. self.a"
            )
            continue
        if (type(case), case) in seen:
            step.errors.append(f"{ref} lists switch case {case!r} twice: keep one")
            continue
        seen.add((type(case), case))
        step.switch_cases.append((case, target))
        if target not in step.out_funcs:
            step.out_funcs.append(target)
    if len(cases.keys) < 2:
        step.errors.append(
            f"{ref} has a switch with fewer than two cases: use self.next(self.a) for one"
            " step, or add cases"
        )


def _read_num_parallel(value: ast.expr, ref: str, errors: list[str]) -> int | str:
    if isinstance(value, ast.Constant) and type(value.value) is int:
        if value.value < 1:
            errors.append(f"{ref} has num_parallel={value.value}: it must be at least 1")
        return value.value
    if isinstance(value, ast.Constant):
        errors.append(f"{ref} has num_parallel={value.value!r}: give a whole number of tasks")
    return ast.unparse(value)


def _check_next_shape(step: _Step, switch: bool, nargs: int, ref: str) -> None:
    kinds = step.kinds & set(_NEXT_KEYWORDS)
    if len(kinds) > 1:
        step.errors.append(
            f"{ref} passes {', '.join(sorted(k + '=' for k in kinds))} together to self.next:"
            " use only one"
        )
    elif kinds & {"foreach", "num_parallel"} and (switch or nargs != 1):
        kind = "foreach" if "foreach" in kinds else "num_parallel"
        step.errors.append(
            f"{ref} uses {kind}= with {'a switch' if switch else f'{nargs} steps'}: it goes to"
            f" exactly one step, e.g. self.next(self.a, {kind}=...)"
        )
    if "condition" in kinds and not switch:
        step.errors.append(
            f"{ref} passes condition= without a dict of cases: write"
            " self.next({'x': self.a, 'y': self.b}, condition='attr')"
        )
    if switch and "condition" not in kinds:
        step.errors.append(
            f"{ref} passes a dict of cases without condition=: add condition='<artifact name>'"
        )


def _to_node(step: _Step, start: str, end: str) -> GraphNode:
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


def _case(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def describe_transition(node: GraphNode) -> str:
    """One line: where the step goes next, as ``show`` prints it."""
    if node.type is NodeType.END:
        return "(end)"
    if not node.has_next_call:
        return "=> ? (no self.next call)"
    targets = ", ".join(node.out_funcs) or "?"
    if node.is_switch:
        cases = ", ".join(f"{_case(c)} -> {t}" for c, t in node.switch_cases)
        return f"=> switch on '{node.condition or '?'}': {cases}"
    if node.foreach_param is not None:
        return f"=> {targets} (foreach over '{node.foreach_param}')"
    if node.num_parallel is not None:
        return f"=> {targets} (parallel, num_parallel={node.num_parallel})"
    return f"=> {targets}"


def format_show(graph: FlowGraph) -> str:
    """The text of ``python flow.py show``: each step in show order, its doc and transition."""
    indent = "    "
    lines = [graph.name]
    if graph.doc:
        lines.extend(indent + line if line else "" for line in graph.doc.splitlines())
    for node in graph:
        lines.append("")
        lines.append(f"Step {node.name}")
        doc_lines = node.doc.splitlines() if node.doc else ["?"]
        lines.extend(indent + line if line else "" for line in doc_lines)
        if node.is_join:
            lines.append(f"{indent}joins {', '.join(node.in_funcs) or '?'}")
        lines.append(indent + describe_transition(node))
    return "\n".join(lines) + "\n"
