"""The flow graph drawn as SVG: every step, arrows, the highlighted step, loops, escaping."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from headwater.cards.graph_svg import graph_svg
from headwater.core.graph import FlowGraph

FLOWS = Path(__file__).resolve().parents[1] / "flows"


def _graph(module: str) -> dict:
    import importlib.util

    sys.path.insert(0, str(FLOWS))
    try:
        spec = importlib.util.spec_from_file_location(f"svg_{module}", FLOWS / f"{module}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(FLOWS))
    from headwater.core.flowspec import FlowSpec

    cls = next(
        v
        for v in vars(mod).values()
        if isinstance(v, type) and issubclass(v, FlowSpec) and v is not FlowSpec
    )
    return FlowGraph.from_class(cls).to_dict()


@pytest.mark.parametrize(
    "module",
    ["linear", "branch", "nested_branch", "nested_foreach", "switch_loop", "switch_self_loop"],
)
def test_every_step_is_a_box_and_every_transition_an_arrow(module):
    graph = _graph(module)
    svg = graph_svg(graph, "start")
    root = ElementTree.fromstring(svg)  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    names = [t.text for g in root.iter(f"{ns}g") for t in g.iter(f"{ns}text")]
    for step in graph["steps"]:
        assert step in names
    n_edges = sum(len(s["out_funcs"]) for s in graph["steps"].values())
    assert len(list(root.iter(f"{ns}path"))) == n_edges + 1  # + the arrow head
    assert svg.count("hw-current") == 1


def test_loops_are_dashed():
    svg = graph_svg(_graph("switch_loop"))
    assert svg.count('stroke-dasharray="5 4"') == 1
    assert 'stroke-dasharray="5 4"' not in graph_svg(_graph("branch"))


def test_highlighted_step_is_marked():
    svg = graph_svg(_graph("linear"), "double")
    m = re.search(r'<g class="hw-step hw-current"><title>(\w+)', svg)
    assert m.group(1) == "double"


def test_names_and_docs_are_escaped():
    graph = {
        "name": "<F>",
        "start": "s",
        "steps": {
            "s": {"type": "start", "out_funcs": ["<script>"], "doc": "<b>doc</b>"},
            "<script>": {"type": "end", "out_funcs": []},
        },
    }
    svg = graph_svg(graph)
    assert "<script>" not in svg and "<b>" not in svg
    ElementTree.fromstring(svg)


def test_no_steps():
    assert "no graph" in graph_svg({"steps": {}})
