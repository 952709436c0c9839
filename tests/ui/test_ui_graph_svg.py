"""The graph drawing: layers from the start, loops drawn back, every name escaped."""

from __future__ import annotations

import re

from headwater.ui.graph_svg import Edge, Node, render_graph


def _boxes(svg: str) -> dict[str, tuple[float, float]]:
    """Step name -> (x, y) of its box, read back from the SVG."""
    out = {}
    pattern = r'<title>([^:<]+):.*?</title><rect x="([\d.]+)" y="([\d.]+)"'
    for name, x, y in re.findall(pattern, svg):
        out[name] = (float(x), float(y))
    return out


def test_branches_share_a_layer_and_the_join_comes_after():
    nodes = [Node(n, "succeeded", "ok") for n in ("start", "a", "b", "join", "end")]
    edges = [
        Edge("start", "a"),
        Edge("start", "b"),
        Edge("a", "join"),
        Edge("b", "join"),
        Edge("join", "end"),
    ]
    boxes = _boxes(render_graph(nodes, edges))
    assert boxes["a"][0] == boxes["b"][0] > boxes["start"][0]
    assert boxes["a"][1] != boxes["b"][1]
    assert boxes["start"][0] < boxes["a"][0] < boxes["join"][0] < boxes["end"][0]


def test_a_loop_back_does_not_move_steps_left_and_carries_its_label():
    nodes = [Node(n, "succeeded", "") for n in ("start", "inc", "check", "end")]
    edges = [
        Edge("start", "inc"),
        Edge("inc", "check"),
        Edge("check", "inc", "switch", "again"),
        Edge("check", "end", "switch", "done"),
    ]
    svg = render_graph(nodes, edges)
    boxes = _boxes(svg)
    assert boxes["start"][0] < boxes["inc"][0] < boxes["check"][0] < boxes["end"][0]
    assert ">again</text>" in svg and ">done</text>" in svg
    assert svg.count('<path class="edge switch"') == 2


def test_self_loop_and_states_and_links():
    nodes = [
        Node("start", "succeeded", "", "/task/F/1/start/1"),
        Node("spin", "running", "1"),
        Node("end", "pending", "pending"),
    ]
    edges = [Edge("start", "spin"), Edge("spin", "spin"), Edge("spin", "end")]
    svg = render_graph(nodes, edges)
    assert '<a href="/task/F/1/start/1">' in svg
    assert 'class="node st-running"' in svg and 'class="node st-pending"' in svg
    assert svg.count("<path") == 4  # three edges and the arrowhead


def test_names_and_details_are_escaped():
    svg = render_graph([Node("<script>", "failed", "<img onerror=x>")], [])
    assert "<script>" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg


def test_no_steps_no_svg_and_unknown_edges_are_ignored():
    assert render_graph([], []) == ""
    svg = render_graph([Node("start", "succeeded", "")], [Edge("start", "gone")])
    assert "edge" not in svg.replace('class="edge-', "")
