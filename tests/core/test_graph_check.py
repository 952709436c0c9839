"""The graph rules (API.md section 1): each bad flow gives one clear message naming the step."""

from __future__ import annotations

import importlib.util
import random
import re
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from headwater.core.graph import FlowGraph
from headwater.core.graph_check import check_graph, validate_graph
from headwater.core.step import is_step, step
from headwater.exceptions import InvalidFlow

FLOWS = Path(__file__).resolve().parents[1] / "flows"


@pytest.fixture
def load_graph(monkeypatch):
    """Import a flow file by path and build its graph."""

    def load(relpath: str) -> FlowGraph:
        path = FLOWS / relpath
        monkeypatch.syspath_prepend(str(path.parent))  # as `python flow.py` would
        name = "hw_check_test_" + relpath.replace("/", "_").removesuffix(".py")
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
        return FlowGraph.from_class(flow_cls)

    return load


def def_line(relpath: str, name: str) -> int:
    lines = (FLOWS / relpath).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(f"def {name}("))


# file: [(step named by the error, is the line its def line, phrases in the message)]
BAD_FLOWS = {
    # rule 1
    "bad_no_start.py": [(None, False, ["no start step", "@step method named start"])],
    "bad_two_starts.py": [("start", True, ["several start steps", "'begin', 'start'"])],
    # rule 2
    "bad_step_name.py": [
        ("Process", True, ["invalid name", "lowercase"]),
        ("cmd", True, ["reserved name", "rename"]),
    ],
    # rule 3
    "bad_missing_next.py": [("work", True, ["does not end with self.next"])],
    "bad_end_next.py": [("end", False, ["end step 'end'", "calls self.next", "remove"])],
    # rule 4
    "bad_unknown_target.py": [("start", False, ["unknown step 'ned'", "did you mean 'end'?"])],
    "bad_not_a_step.py": [("start", False, ["'middle' is a method but not a step", "@step"])],
    "bad_foreach_arg.py": [("start", False, ["foreach=self.items", "foreach='items'"])],
    "bad_switch_one_case.py": [("start", False, ["fewer than two cases"])],
    # rule 5
    "bad_orphan.py": [("forgotten", True, ["never reached from the start step"])],
    "bad_no_way_out.py": [("spin", True, ["no way out", "end"])],
    # rule 6
    "bad_unjoined.py": [("end", True, ["inside split 'start'", "join step"])],
    # rule 7
    "bad_join_splits.py": [("join", False, ["both joins and splits"])],
    # rule 8
    "bad_not_a_join.py": [
        ("meet", True, ["several branches ('a', 'b')", "def meet(self, inputs)"])
    ],
    "bad_join_no_split.py": [("meet", True, ["not preceded by a split", "def meet(self)"])],
    "bad_join_missing_branch.py": [("join_a", True, ["every branch of split 'start'", "'b'"])],
    "bad_join_unrelated.py": [
        ("mix", True, ["unrelated splits", "'a1', 'a2' from split 'a'", "'b' from split 'start'"])
    ],
    "bad_join_direct.py": [("join", True, ["directly follows split 'start'"])],
    # rule 9
    "bad_cycle.py": [("b", False, ["goes back to step 'a'", "without a switch"])],
    # rule 10
    "bad_end_join.py": [("end", True, ["end step cannot be a join", "add a join step"])],
}


@pytest.mark.parametrize("filename", sorted(BAD_FLOWS))
def test_bad_flow_gives_exactly_its_errors(load_graph, filename):
    relpath = f"graph/{filename}"
    graph = load_graph(relpath)  # building the graph never raises
    errors = check_graph(graph)
    expected = BAD_FLOWS[filename]
    assert [e.step for e in errors] == [step_name for step_name, _, _ in expected], [
        str(e) for e in errors
    ]
    for error, (step_name, at_def, phrases) in zip(errors, expected, strict=True):
        text = str(error)
        assert isinstance(error, InvalidFlow)
        assert "\n" not in text
        if step_name is not None:
            assert f"'{step_name}' (line {error.lineno})" in text
            assert error.lineno
        if at_def:
            assert error.lineno == def_line(relpath, step_name)
        for phrase in phrases:
            assert phrase in text
    with pytest.raises(InvalidFlow) as raised:
        validate_graph(graph)
    assert str(raised.value) == str(errors[0])


def test_every_good_flow_file_passes(load_graph):
    flow_files = (p for p in FLOWS.glob("*.py") if "(FlowSpec)" in p.read_text())
    paths = sorted(flow_files) + sorted(FLOWS.glob("graph/good_*.py"))
    assert len(paths) >= 12
    for path in paths:
        graph = load_graph(str(path.relative_to(FLOWS)))
        assert check_graph(graph) == [], path.name
        validate_graph(graph)


# --- more cases, as classes defined here (any class works) ----------------------------------


@pytest.fixture
def make_class(tmp_path, monkeypatch):
    """Write a flow class's source to a module file under tmp_path and import it."""
    count = iter(range(1000))

    def make(source: str) -> type:
        name = f"hw_check_inline_{next(count)}"
        path = tmp_path / f"{name}.py"
        path.write_text("from headwater.core.step import step\n\n" + textwrap.dedent(source))
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        return next(v for v in vars(module).values() if isinstance(v, type))

    return make


@pytest.fixture
def errors_of(make_class):
    def errors(source: str) -> list[str]:
        return [str(e) for e in check_graph(FlowGraph.from_class(make_class(source)))]

    return errors


FLOW = """
class F:
    @step
    def start(self):
        self.items = [1]
        {next}

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize(
    "call, phrase",
    [
        ("self.next(self.a, self.b, foreach='items')", "uses foreach= with 2 steps"),
        ("self.next(self.a, condition='items')", "condition= without a dict of cases"),
        ("self.next({'x': self.a, 'y': self.b})", "without condition="),
        ("self.next(self.a, self.b, wait=True)", "passes wait= to self.next"),
        ("self.next(self.a, 'b')", "passes 'b' to self.next"),
        ("self.next(self.a, self.a, self.b)", "goes to step 'a' twice"),
        ("self.next({1.5: self.a, 2: self.b}, condition='items')", "case values must be str"),
        ("self.next({1: self.a, 1: self.b}, condition='items')", "lists switch case 1 twice"),
        ("self.next({'x': self.a, 'y': 'b'}, condition='items')", "map it to a step"),
        ("self.next(*[self.a, self.b])", "with * or **"),
        ("self.next()", "with no step"),
        ("self.next(self.a, foreach='')", "foreach='': it must name an artifact"),
        ("self.next(self.a, foreach='items', num_parallel=2)", "together to self.next"),
        ("self.next(self.a, num_parallel=0)", "num_parallel=0: it must be at least 1"),
    ],
)
def test_malformed_next_calls(errors_of, call, phrase):
    errors = errors_of(FLOW.format(next=call))
    assert any(phrase in e and "step 'start' (line " in e for e in errors), errors


def test_bad_step_arguments(errors_of):
    errors = errors_of(
        """
        class F:
            @step
            def start(self, inputs, extra):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    assert any("step 'start'" in e and "must take (self)" in e for e in errors), errors


def test_two_ends_and_start_that_is_end(errors_of):
    errors = errors_of(
        """
        class F:
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass

            @step(end=True)
            def finish(self):
                pass
        """
    )
    assert len(errors) == 1 and "several end steps ('finish', 'end')" in errors[0]
    errors = errors_of(
        """
        class F:
            @step(start=True)
            def end(self):
                pass
        """
    )
    assert errors == ["step 'end' (line 6) is both the start and the end step: use two steps"], (
        errors
    )


def test_no_end_step(errors_of):
    errors = errors_of(
        """
        class F:
            @step
            def start(self):
                self.next(self.finish)

            @step
            def finish(self):
                pass
        """
    )
    assert errors[0].startswith("flow F has no end step")


def test_start_step_cannot_be_a_join(errors_of):
    errors = errors_of(
        """
        class F:
            @step
            def start(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    assert errors == [
        "start step 'start' (line 6) takes an `inputs` argument, but the start step cannot be a"
        " join: make it def start(self)"
    ]


def test_parallel_needs_num_parallel_and_the_decorator(errors_of, make_class):
    missing_decorator = """
        class F:
            @step
            def start(self):
                self.next(self.train, num_parallel=2)

            @step
            def train(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    errors = errors_of(missing_decorator)
    assert len(errors) == 1 and "'train' has no @parallel decorator" in errors[0]
    cls = make_class(missing_decorator.replace("num_parallel=2", "foreach='xs'"))
    cls.train.decorators.append(SimpleNamespace(name="parallel"))
    errors = [str(e) for e in check_graph(FlowGraph.from_class(cls))]
    assert len(errors) == 1 and "step 'train'" in errors[0] and "without num_parallel=" in errors[0]


def test_linear_self_loop_is_a_cycle(errors_of):
    errors = errors_of(
        """
        class F:
            @step
            def start(self):
                self.next(self.spin)

            @step
            def spin(self):
                self.next(self.spin)

            @step
            def end(self):
                pass
        """
    )
    assert len(errors) == 1 and "step 'spin'" in errors[0] and "without a switch" in errors[0]


LOOP_AROUND_SPLIT = """
class F:
    @step
    def start(self):
        self.next(self.fan)

    @step
    def fan(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.check)

    @step
    def check(self):
        self.next({"again": self.fan, "done": self.end}, condition="state")

    @step
    def end(self):
        pass
"""


def test_a_switch_loop_around_a_split_and_join_is_valid(errors_of):
    assert errors_of(LOOP_AROUND_SPLIT) == []


def test_a_join_does_not_switch_either(errors_of):
    check = '        self.next({"again": self.fan, "done": self.end}, condition="state")\n'
    source = LOOP_AROUND_SPLIT.replace("        self.next(self.check)\n", check)
    source = source.replace("    @step\n    def check(self):\n" + check + "\n", "")
    errors = errors_of(source)
    assert len(errors) == 1, errors
    assert "join step 'join'" in errors[0] and "both joins and switches" in errors[0]


def test_a_switch_loop_may_not_leave_a_foreach(errors_of):
    errors = errors_of(
        """
        class F:
            @step
            def start(self):
                self.next(self.fan)

            @step
            def fan(self):
                self.next(self.body, foreach="xs")

            @step
            def body(self):
                self.next({"again": self.fan, "done": self.join}, condition="state")

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    assert len(errors) == 1, errors
    assert "step 'fan'" in errors[0] and "reached through different splits" in errors[0]
    assert "'start' outside any split" in errors[0] and "'body' inside split 'fan'" in errors[0]


def test_switch_arms_meeting_inside_a_branch_are_not_a_join(errors_of):
    assert (
        errors_of(
            """
            class F:
                @step
                def start(self):
                    self.next(self.left, self.right)

                @step
                def left(self):
                    self.next({"x": self.p, "y": self.q}, condition="v")

                @step
                def p(self):
                    self.next(self.meet)

                @step
                def q(self):
                    self.next(self.meet)

                @step
                def meet(self):
                    self.next(self.join)

                @step
                def right(self):
                    self.next(self.join)

                @step
                def join(self, inputs):
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
        == []
    )


def test_unreadable_source_is_reported():
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
    errors = [str(e) for e in check_graph(FlowGraph.from_class(namespace["Hidden"]))]
    assert len(errors) == 1 and "no readable source" in errors[0] and "'start'" in errors[0]


class _RandomFlow:
    """A random flow that is valid by construction: nested splits, foreaches and switches."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.steps: dict[str, tuple[str, str]] = {}  # name -> (arguments, self.next call)
        entry = self.block(0, "end")
        self.steps["start"] = ("self", f"self.next(self.{entry})")
        self.steps["end"] = ("self", "")

    def new(self) -> str:
        return f"s{len(self.steps) + 1000}"

    def add(self, name: str, args: str, call: str) -> str:
        self.steps[name] = (args, call)
        return name

    def block(self, depth: int, exit: str) -> str:
        """Steps that lead to ``exit``; returns the first one."""
        kinds = ["linear", "split", "foreach", "switch", "loop"] if depth < 3 else ["linear"]
        kind = self.rng.choice(kinds)
        if kind == "linear":
            return self.add(self.new(), "self", f"self.next(self.{exit})")
        if kind in ("split", "foreach"):
            join = self.add(self.new(), "self, inputs", f"self.next(self.{exit})")
            if kind == "foreach":
                body = self.block(depth + 1, join)
                return self.add(self.new(), "self", f"self.next(self.{body}, foreach='xs')")
            branches = [self.block(depth + 1, join) for _ in range(self.rng.randint(2, 3))]
            targets = ", ".join(f"self.{b}" for b in branches)
            return self.add(self.new(), "self", f"self.next({targets})")
        if kind == "switch":
            meet = exit
            if self.rng.random() < 0.7:  # arms meet at a plain step, or go straight on
                meet = self.add(self.new(), "self", f"self.next(self.{exit})")
            arms = [self.block(depth + 1, meet) for _ in range(2)]
            cases = f"{{'a': self.{arms[0]}, 'b': self.{arms[1]}}}"
            return self.add(self.new(), "self", f"self.next({cases}, condition='c')")
        check = self.new()
        self.steps[check] = ("self", "")  # reserve the name
        body = self.block(depth + 1, check)
        self.add(
            check,
            "self",
            f"self.next({{'again': self.{body}, 'done': self.{exit}}}, condition='c')",
        )
        return body

    def source(self, cls: str) -> str:
        lines = [f"class {cls}:"]
        for name, (args, call) in self.steps.items():
            lines += ["    @step", f"    def {name}({args}):", f"        {call or 'pass'}"]
        return "\n".join(lines) + "\n"

    def mutate(self) -> None:
        name = self.rng.choice(list(self.steps))
        args, call = self.steps[name]
        roll = self.rng.random()
        if roll < 0.3:
            args = "self" if "inputs" in args else "self, inputs"
        elif roll < 0.5:
            call = ""
        else:
            target = self.rng.choice([*self.steps, "nope"])
            retargeted = re.sub(r"self\.(s\d+|end)\b", f"self.{target}", call, count=1)
            call = retargeted if call else f"self.next(self.{target})"
        self.steps[name] = (args, call)


def test_random_graphs(tmp_path, monkeypatch):
    """Random valid flows pass with consistent graphs; mutated ones never make checking fail."""
    rng = random.Random(20240611)
    flows = [_RandomFlow(rng) for _ in range(120)]
    sources = [flow.source(f"Valid{i}") for i, flow in enumerate(flows)]
    for i, flow in enumerate(flows):
        flow.mutate()
        sources.append(flow.source(f"Mutated{i}"))
    path = tmp_path / "hw_random_flows.py"
    path.write_text("from headwater.core.step import step\n\n\n" + "\n\n".join(sources))
    spec = importlib.util.spec_from_file_location("hw_random_flows", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "hw_random_flows", module)
    spec.loader.exec_module(module)
    for i in range(len(flows)):
        graph = FlowGraph.from_class(getattr(module, f"Valid{i}"))
        assert check_graph(graph) == [], sources[i]
        names = [node.name for node in graph]
        assert names[0] == "start" and names[-1] == "end"
        assert graph["end"].split_parents == ()
        for node in graph:
            if node.opens_split:
                assert graph.joined_split(node.matching_join) == node.name
                assert graph[node.matching_join].split_parents == node.split_parents
            for target in node.out_funcs:
                assert node.name in graph[target].in_funcs
                if not node.opens_split and not graph[target].is_join:
                    assert graph[target].split_parents == node.split_parents
        mutated = check_graph(FlowGraph.from_class(getattr(module, f"Mutated{i}")))
        assert all(isinstance(e, InvalidFlow) and "\n" not in str(e) for e in mutated)
