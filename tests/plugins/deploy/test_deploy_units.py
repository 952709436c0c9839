"""How a flow's graph becomes the nodes of a production scheduler's DAG (units), and how the
compiled Airflow DAG plans tasks from the reports of finished ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.core.graph import FlowGraph
from headwater.plugins.airflow.dag_runtime import (
    headwater_run_id,
    parameter_args,
    plan_jobs,
    walk_loop,
)
from headwater.plugins.deploy.units import compile_units

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def _graph(name: str) -> FlowGraph:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_units_{name}", FLOWS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = next(
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and v.__module__ == module.__name__
        and hasattr(v, "_flow_decorators")
    )  # noqa: E501
    return FlowGraph.from_class(cls)


def _units(name: str) -> dict:
    return {u.id: u for u in compile_units(_graph(name))}


def test_a_loop_is_one_unit_and_the_dag_has_no_cycle():
    units = _units("switch_loop")
    assert list(units) == ["start", "loop_increment", "end"]
    loop = units["loop_increment"]
    assert loop.is_loop and loop.steps == ("increment", "check") and loop.entries == ("increment",)
    assert units["end"].sources == ("loop_increment",)
    assert _units("switch_self_loop")["loop_grow"].steps == ("grow",)


def test_units_inside_a_foreach_are_mapped_and_planned_by_the_unit_before_when_they_can_be():
    units = _units("nested_foreach")
    assert not units["start"].mapped and units["start"].direct == "outer"
    assert units["outer"].mapped and units["outer"].planned_by == "start"
    # one outer task opens many inner ones: a planning task makes the inner jobs
    assert units["inner"].planned_by == "plan" and units["join_inner"].planned_by == "plan"
    assert not units["join_outer"].mapped and units["join_outer"].planned_by == "self"
    switch = _units("switch_in_foreach")
    assert switch["big"].planned_by == "plan" and switch["collect"].sources == ("big", "small")


def _report(step, task, transition, stack=()):
    return {"input_path": f"r/{step}/{task}", "transition": transition, "stack": list(stack)}


def _frame(task, index, n):
    return {"step": "start", "task": task, "index": index, "num_splits": n, "kind": "foreach"}


def test_plan_jobs_follows_transitions_and_waits_for_every_split_of_a_join():
    foreach = _report("start", "t0", {"kind": "foreach", "targets": ["square"], "num_splits": 3})
    assert plan_jobs("square", [foreach], False) == [
        {"step": "square", "input_paths": ["r/start/t0"], "split_index": i} for i in range(3)
    ]
    done = [
        _report("square", f"s{i}", {"kind": "linear", "targets": ["join"]}, [_frame("t0", i, 3)])
        for i in (2, 0, 1)
    ]
    assert plan_jobs("join", done, True) == [
        {"step": "join", "input_paths": ["r/square/s0", "r/square/s1", "r/square/s2"],
         "split_index": None}
    ]  # fmt: skip
    with pytest.raises(RuntimeError, match="2 of the 3 splits"):
        plan_jobs("join", done[:2], True)
    switch = _report("start", "t0", {"kind": "switch", "targets": ["odd"]})
    assert plan_jobs("even", [switch], False) == []
    assert len(plan_jobs("odd", [switch], False)) == 1


def test_a_loop_runs_until_its_switch_leaves_it():
    unit = {"steps": ["grow"], "entries": ["grow"]}
    steps = {"grow": {"is_join": False}, "end": {"is_join": False}}
    runs = []

    def run_one(job):
        runs.append(job["input_paths"])
        n = len(runs)
        target = "grow" if n < 3 else "end"
        return _report("grow", f"g{n}", {"kind": "switch", "targets": [target]})

    first = {"step": "grow", "input_paths": ["r/start/t0"], "split_index": None}
    reports = walk_loop(unit, steps, [first], run_one)
    assert runs == [["r/start/t0"], ["r/grow/g1"], ["r/grow/g2"]]
    assert reports[-1]["transition"]["targets"] == ["end"]


def test_run_ids_and_parameter_words():
    assert headwater_run_id("Dag", "manual__1") == headwater_run_id("Dag", "manual__1")
    assert headwater_run_id("Dag", "manual__1") != headwater_run_id("Other", "manual__1")
    assert headwater_run_id("Dag", "manual__1").startswith("airflow-")
    params = [
        {"name": "alpha"}, {"name": "fast", "is_flag": True}, {"name": "extra", "json": True},
        {"name": "items", "separator": ","}, {"name": "on"},
    ]  # fmt: skip
    values = {"alpha": 0.5, "fast": True, "extra": {"k": 1}, "items": ["a", "b"], "on": False}
    assert parameter_args(params, values) == [
        "--alpha", "0.5", "--fast", "--extra", '{"k": 1}', "--items", "a,b", "--on", "false",
    ]  # fmt: skip
    assert parameter_args(params, {"fast": False, "alpha": None}) == []
