"""Reading a flow's graph from its class source: node types, edges, splits, show, to_dict."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from headwater.core.graph import FlowGraph, NodeType
from headwater.core.graph_check import check_graph
from headwater.core.graph_show import format_show
from headwater.core.step import is_step, step

FLOWS = Path(__file__).resolve().parents[1] / "flows"


@pytest.fixture
def load_flow(monkeypatch):
    """Import a flow file by path (so its source is inspectable); return (module, flow class)."""

    def load(relpath: str):
        path = FLOWS / relpath
        name = "hw_graph_test_" + relpath.replace("/", "_").removesuffix(".py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        flows = [
            v
            for v in vars(module).values()
            if isinstance(v, type)
            and v.__module__ == name
            and any(is_step(getattr(v, a, None)) for a in dir(v))
        ]
        flow_cls = flows[-1]  # the last flow class defined in the file
        return module, flow_cls

    return load


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# name: (type, out_funcs, in_funcs, split_parents, matching_join); dict order = show order
SHAPES = {
    "linear.py": {
        "start": ("start", "double", "", "", None),
        "double": ("linear", "end", "start", "", None),
        "end": ("end", "", "double", "", None),
    },
    "branch.py": {
        "start": ("split", "add mul", "", "", "join"),
        "add": ("linear", "join", "start", "start", None),
        "mul": ("linear", "join", "start", "start", None),
        "join": ("join", "end", "add mul", "", None),
        "end": ("end", "", "join", "", None),
    },
    "nested_branch.py": {
        "start": ("split", "a b", "", "", "join"),
        "a": ("split", "a1 a2", "start", "start", "join_a"),
        "a1": ("linear", "join_a", "a", "start a", None),
        "a2": ("linear", "join_a", "a", "start a", None),
        "join_a": ("join", "join", "a1 a2", "start", None),
        "b": ("linear", "join", "start", "start", None),
        "join": ("join", "end", "join_a b", "", None),
        "end": ("end", "", "join", "", None),
    },
    "foreach.py": {
        "start": ("foreach", "square", "", "", "join"),
        "square": ("linear", "join", "start", "start", None),
        "join": ("join", "end", "square", "", None),
        "end": ("end", "", "join", "", None),
    },
    "nested_foreach.py": {
        "start": ("foreach", "outer", "", "", "join_outer"),
        "outer": ("foreach", "inner", "start", "start", "join_inner"),
        "inner": ("linear", "join_inner", "outer", "start outer", None),
        "join_inner": ("join", "join_outer", "inner", "start", None),
        "join_outer": ("join", "end", "join_inner", "", None),
        "end": ("end", "", "join_outer", "", None),
    },
    "switch.py": {
        "start": ("split-switch", "quick careful", "", "", None),
        "quick": ("linear", "end", "start", "", None),
        "careful": ("linear", "end", "start", "", None),
        "end": ("end", "", "quick careful", "", None),
    },
    "switch_loop.py": {
        "start": ("start", "increment", "", "", None),
        "increment": ("linear", "check", "start check", "", None),
        "check": ("split-switch", "increment end", "increment", "", None),
        "end": ("end", "", "check", "", None),
    },
    "switch_self_loop.py": {
        "start": ("start", "grow", "", "", None),
        "grow": ("split-switch", "grow end", "start grow", "", None),
        "end": ("end", "", "grow", "", None),
    },
    "foreach_in_switch.py": {
        "start": ("split-switch", "fan single", "", "", None),
        "fan": ("foreach", "work", "start", "", "join_fan"),
        "work": ("linear", "join_fan", "fan", "fan", None),
        "join_fan": ("join", "finish", "work", "", None),
        "single": ("linear", "finish", "start", "", None),
        "finish": ("linear", "end", "join_fan single", "", None),
        "end": ("end", "", "finish", "", None),
    },
    "switch_in_foreach.py": {
        "start": ("foreach", "classify", "", "", "join"),
        "classify": ("split-switch", "big small", "start", "start", None),
        "big": ("linear", "collect", "classify", "start", None),
        "small": ("linear", "collect", "classify", "start", None),
        "collect": ("linear", "join", "big small", "start", None),
        "join": ("join", "end", "collect", "", None),
        "end": ("end", "", "join", "", None),
    },
    "switch_in_branch.py": {
        "start": ("split", "left right", "", "", "join"),
        "left": ("split-switch", "odd even", "start", "start", None),
        "odd": ("linear", "left_done", "left", "start", None),
        "even": ("linear", "left_done", "left", "start", None),
        "left_done": ("linear", "join", "odd even", "start", None),
        "right": ("linear", "join", "start", "start", None),
        "join": ("join", "end", "left_done right", "", None),
        "end": ("end", "", "join", "", None),
    },
    "graph/good_switch_into_join.py": {
        "start": ("split", "left right", "", "", "join"),
        "left": ("split-switch", "up down", "start", "start", None),
        "up": ("linear", "join", "left", "start", None),
        "down": ("linear", "join", "left", "start", None),
        "right": ("linear", "join", "start", "start", None),
        "join": ("join", "end", "up down right", "", None),
        "end": ("end", "", "join", "", None),
    },
    "graph/good_parallel.py": {
        "start": ("foreach", "train", "", "", "join"),
        "train": ("linear", "join", "start", "start", None),
        "join": ("join", "end", "train", "", None),
        "end": ("end", "", "join", "", None),
    },
}


@pytest.mark.parametrize("relpath", sorted(SHAPES))
def test_good_shape_nodes_edges_splits_and_order(load_flow, relpath):
    _, flow_cls = load_flow(relpath)
    graph = FlowGraph.from_class(flow_cls)
    expected = SHAPES[relpath]
    assert [node.name for node in graph] == list(expected)  # show order
    for name, (kind, out, inc, parents, join) in expected.items():
        node = graph[name]
        assert node.type is NodeType(kind), name
        assert node.out_funcs == _split(out), name
        assert node.in_funcs == _split(inc), name
        assert node.split_parents == _split(parents), name
        assert node.matching_join == join, name
        assert node.is_join == (kind == "join")
        assert node.has_next_call == (kind != "end")
    assert (graph.start, graph.end) == ("start", "end")
    assert check_graph(graph) == []


@pytest.mark.parametrize("relpath", sorted(p for p in SHAPES if "/" not in p))
def test_runnable_flow_files_state_their_expected_end_values(load_flow, relpath):
    module, flow_cls = load_flow(relpath)
    assert isinstance(module.EXPECTED, dict) and module.EXPECTED
    assert "end:" in module.__doc__
    assert f"{flow_cls.__name__}()" in (FLOWS / relpath).read_text()


def test_transition_details_are_recorded(load_flow):
    _, flow_cls = load_flow("switch_in_foreach.py")
    graph = FlowGraph.from_class(flow_cls)
    assert graph["start"].foreach_param == "nums"
    classify = graph["classify"]
    assert classify.condition == "is_big"
    assert classify.switch_cases == ((True, "big"), (False, "small"))
    assert classify.is_switch and not classify.opens_split
    _, flow_cls = load_flow("graph/good_parallel.py")
    graph = FlowGraph.from_class(flow_cls)
    assert graph["start"].num_parallel == 4
    assert graph["start"].foreach_param is None
    assert graph["train"].decorators == ("parallel",)


def test_lines_docs_and_source_file(load_flow):
    module, flow_cls = load_flow("linear.py")
    graph = FlowGraph.from_class(flow_cls)
    lines = (FLOWS / "linear.py").read_text().splitlines()
    start = graph["start"]
    assert lines[start.lineno - 1].strip() == "def start(self):"  # the def, not the @step
    assert lines[start.next_lineno - 1].strip() == "self.next(self.double)"
    assert start.doc == "Set x to 1."
    assert start.source_file == module.__file__
    assert graph.doc == "Three steps in a row, each deriving a value from the previous one."
    assert graph.name == "LinearFlow"


def test_graph_mapping_protocol_and_helpers(load_flow):
    _, flow_cls = load_flow("nested_foreach.py")
    graph = FlowGraph.from_class(flow_cls)
    assert "inner" in graph and "nope" not in graph
    assert len(graph) == 6
    assert graph["inner"] is graph.nodes["inner"]
    assert graph.joined_split("join_inner") == "outer"
    assert graph.joined_split("join_outer") == "start"
    assert graph.joined_split("inner") is None
    assert graph.foreach_parents("inner") == ("start", "outer")
    assert graph.foreach_parents("join_inner") == ("start",)
    assert graph.foreach_parents("end") == ()


# --- classes defined here: any class works, no FlowSpec needed ------------------------------


class _Deco:
    def __init__(self, name: str) -> None:
        self.name = name


def _with(*decos):
    def add(func):
        func.decorators.extend(decos)
        return func

    return add


class Base:
    @step
    def start(self):
        """Inherited start."""
        self.next(self.middle)


class Custom(Base):
    """Steps with other entry/exit names, decorators and a join after a linear start."""

    @_with(_Deco("retry"), SimpleNamespace())
    @step
    def middle(self):
        text = """
a string less indented than the body
"""
        self.text = text
        self.next(self.finish)

    @step(end=True)
    def finish(self):
        pass

    def helper(self):
        return 1

    not_a_step = 3


def test_inherited_steps_decorators_and_multiline_strings():
    graph = FlowGraph.from_class(Custom)
    assert [n.name for n in graph] == ["start", "middle", "finish"]
    assert graph["start"].doc == "Inherited start."
    assert graph["middle"].decorators == ("retry", "SimpleNamespace")
    assert graph["middle"].out_funcs == ("finish",)
    assert graph.end == "finish" and graph["finish"].type is NodeType.END
    assert "helper" not in graph
    assert check_graph(graph) == []


class Renamed:
    @step(start=True)
    def begin(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.merge)

    @step
    def b(self):
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.next(self.done)

    @step(end=True)
    def done(self):
        pass


def test_start_and_end_may_have_other_names_and_a_splitting_start_is_a_split():
    graph = FlowGraph.from_class(Renamed)
    assert (graph.start, graph.end) == ("begin", "done")
    assert graph["begin"].type is NodeType.SPLIT
    assert graph["merge"].type is NodeType.JOIN
    assert graph["done"].type is NodeType.END
    assert check_graph(graph) == []


N_WORKERS = 3


class Odd:
    @step
    def start(self):
        self.next({1: self.a, 2: self.b, 3: self.a}, condition="k")

    @step
    def a(self):
        self.next(self.train, num_parallel=N_WORKERS)

    @step
    def b(self):
        self.next(self.missing)

    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self, inputs):
        pass


def test_odd_graphs_are_recorded_not_raised():
    graph = FlowGraph.from_class(Odd)
    assert graph["start"].switch_cases == ((1, "a"), (2, "b"), (3, "a"))
    assert graph["start"].out_funcs == ("a", "b")  # each step once
    assert graph["a"].num_parallel == "N_WORKERS"
    assert graph["a"].type is NodeType.FOREACH
    assert graph["b"].out_funcs == ("missing",)  # unknown target kept
    assert graph["end"].type is NodeType.END and graph["end"].is_join


class Tangle:
    """A split inside a switch loop that is never joined: tracing must still stop."""

    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.next(self.b, self.c)

    @step
    def b(self):
        self.next({"x": self.a, "y": self.end}, condition="v")

    @step
    def c(self):
        self.next(self.a)

    @step
    def end(self):
        pass


def test_loops_that_cross_splits_terminate():
    graph = FlowGraph.from_class(Tangle)
    assert [n.name for n in graph] == ["start", "a", "b", "end", "c"]
    assert check_graph(graph)  # invalid, and said so without hanging


def test_source_unavailable_is_recorded(tmp_path):
    namespace: dict = {"step": step}
    code = textwrap.dedent(
        """
        class Hidden:
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    exec(compile(code, "<generated>", "exec"), namespace)
    graph = FlowGraph.from_class(namespace["Hidden"])
    assert graph["start"].source_file is None
    assert not graph["start"].has_next_call


# --- show and to_dict ------------------------------------------------------------------------


def test_format_show_branch_flow(load_flow):
    _, flow_cls = load_flow("branch.py")
    text = format_show(FlowGraph.from_class(flow_cls))
    assert text == textwrap.dedent(
        """\
        BranchFlow
            Two branches computed in parallel, then joined.

        Step start
            Set x and split.
            => add, mul

        Step add
            ?
            => join

        Step mul
            ?
            => join

        Step join
            Collect both results; x is the same in both branches.
            joins add, mul
            => end

        Step end
            ?
            (end)
        """
    )


@pytest.mark.parametrize(
    "relpath, step_name, line",
    [
        ("foreach.py", "start", "    => square (foreach over 'items')"),
        ("switch.py", "start", "    => switch on 'mode': fast -> quick, slow -> careful"),
        (
            "switch_in_foreach.py",
            "classify",
            "    => switch on 'is_big': True -> big, False -> small",
        ),
        ("graph/good_parallel.py", "start", "    => train (parallel, num_parallel=4)"),
        ("nested_branch.py", "join", "    joins join_a, b"),
    ],
)
def test_format_show_transition_lines(load_flow, relpath, step_name, line):
    _, flow_cls = load_flow(relpath)
    text = format_show(FlowGraph.from_class(flow_cls))
    block = text.split(f"\nStep {step_name}\n", 1)[1].split("\n\n", 1)[0]
    assert line in block.splitlines()
    assert format_show(FlowGraph.from_class(flow_cls)) == text  # deterministic


def test_to_dict_is_json_safe_and_in_show_order(load_flow):
    _, flow_cls = load_flow("switch_in_foreach.py")
    graph = FlowGraph.from_class(flow_cls)
    data = json.loads(json.dumps(graph.to_dict()))
    assert data["name"] == "SwitchInForeachFlow"
    assert (data["start"], data["end"]) == ("start", "end")
    assert list(data["steps"]) == [n.name for n in graph]
    classify = data["steps"]["classify"]
    assert classify["type"] == "split-switch"
    assert classify["switch_cases"] == [[True, "big"], [False, "small"]]
    assert classify["condition"] == "is_big"
    assert data["steps"]["start"]["foreach_param"] == "nums"
    assert data["steps"]["start"]["matching_join"] == "join"
    assert data["steps"]["collect"]["in_funcs"] == ["big", "small"]
    assert data["steps"]["collect"]["split_parents"] == ["start"]
    assert data["steps"]["join"]["is_join"] is True
    assert isinstance(data["steps"]["join"]["lineno"], int)
