"""The one graph layout cards and the web UI draw: layers, loops, waypoints, order."""

from __future__ import annotations

import re

from headwater.cards.graph_layout import is_waypoint, layout_graph
from headwater.cards.graph_svg import graph_svg
from headwater.ui.graph_svg import Edge, Node, render_graph


def _steps(layout) -> list[list[str]]:
    return [[n for n in layer if not is_waypoint(n)] for layer in layout.layers]


def test_each_step_sits_one_layer_after_its_deepest_parent():
    names = ["start", "a", "b", "b2", "join", "end"]
    edges = [
        ("start", "a"),
        ("start", "b"),
        ("b", "b2"),
        ("a", "join"),
        ("b2", "join"),
        ("join", "end"),
    ]
    lay = layout_graph(names, edges, "start")
    assert _steps(lay) == [["start"], ["a", "b"], ["b2"], ["join"], ["end"]]
    # a -> join spans a layer: it passes a waypoint there, beside b2
    (waypoint,) = lay.routes[("a", "join")]
    assert waypoint in lay.layers[2]
    assert lay.routes[("b2", "join")] == ()
    assert not lay.back


def test_loops_are_set_apart_and_do_not_push_steps_down():
    names = ["start", "inc", "check", "end"]
    edges = [("start", "inc"), ("inc", "check"), ("check", "inc"), ("check", "end")]
    lay = layout_graph(names, edges, "start")
    assert lay.back == {("check", "inc")}
    assert _steps(lay) == [["start"], ["inc"], ["check"], ["end"]]
    self_loop = layout_graph(["start", "spin", "end"], [("start", "spin"), ("spin", "spin")])
    assert self_loop.back == {("spin", "spin")}


def test_children_follow_the_order_of_their_parents():
    names = ["start", "a", "b", "b2", "a2", "end"]
    # b2 comes before a2 in the graph's order, but a2's parent comes before b2's: no crossing
    edges = [("start", "a"), ("start", "b"), ("a", "a2"), ("b", "b2"), ("a2", "end")]
    lay = layout_graph(names, edges, "start")
    assert _steps(lay)[1] == ["a", "b"]
    assert _steps(lay)[2] == ["a2", "b2"]


def test_unknown_steps_in_edges_are_left_out():
    lay = layout_graph(["start", "end"], [("start", "end"), ("start", "gone"), ("x", "end")])
    assert _steps(lay) == [["start"], ["end"]]


def test_cards_and_the_ui_draw_the_same_layers():
    steps = {
        "start": {"type": "split", "out_funcs": ["a", "b"]},
        "a": {"type": "linear", "out_funcs": ["join"]},
        "b": {"type": "linear", "out_funcs": ["b2"]},
        "b2": {"type": "linear", "out_funcs": ["join"]},
        "join": {"type": "join", "out_funcs": ["end"]},
        "end": {"type": "end", "out_funcs": []},
    }
    card = graph_svg({"name": "F", "start": "start", "steps": steps})
    rows: dict[float, list[str]] = {}
    for name, y in re.findall(
        r'<g class="hw-step"><title>(\w+)</title><rect x="[\d.]+" y="([\d.]+)"', card
    ):
        rows.setdefault(float(y), []).append(name)
    ui = render_graph(
        [Node(n, "succeeded", "") for n in steps],
        [Edge(a, b) for a, s in steps.items() for b in s["out_funcs"]],
    )
    columns: dict[float, list[str]] = {}
    for name, x in re.findall(r'<title>(\w+):.*?</title><rect x="([\d.]+)"', ui):
        columns.setdefault(float(x), []).append(name)
    by_layer = [rows[y] for y in sorted(rows)]
    assert by_layer == [columns[x] for x in sorted(columns)]
    assert by_layer == [["start"], ["a", "b"], ["b2"], ["join"], ["end"]]
