"""@schedule, @trigger and @trigger_on_finish: what they compile to, and the one-line errors
for what is wrong with them or what a target cannot do."""

from __future__ import annotations

import pytest

from headwater import FlowSpec, project, schedule, step, trigger, trigger_on_finish
from headwater.core.flow_decorators import flow_run_tags
from headwater.exceptions import InvalidFlow
from headwater.plugins.deploy.triggers import flow_triggers


def _flow(*decorators):
    class DeployFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    for deco in reversed(decorators):
        DeployFlow = deco(DeployFlow)
    return DeployFlow


def _triggers(*decorators, options=None):
    cls = _flow(*decorators)
    tags = flow_run_tags(cls, options or {}, "ann")
    return flow_triggers(cls, "argo-workflows", tags)


@pytest.mark.parametrize(
    ("kwargs", "cron"),
    [
        ({}, "0 0 * * *"),
        ({"hourly": True}, "0 * * * *"),
        ({"weekly": True}, "0 0 * * 0"),
        ({"cron": "30  2 * * 1", "weekly": True}, "30 2 * * 1"),
    ],
)
def test_a_schedule_is_a_cron_expression(kwargs, cron):
    assert _triggers(schedule(**kwargs)).cron == cron


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cron": "0 0 * * ? *"}, "is not a 5-field cron expression"),
        ({"timezone": "Mars/Olympus"}, "is not a time zone"),
        ({"daily": False}, "needs one of hourly=True"),
        ({"every": "day"}, "@schedule has no argument 'every'"),
    ],
)
def test_a_bad_schedule_says_what_to_write(kwargs, message):
    with pytest.raises(InvalidFlow, match=message):
        _triggers(schedule(**kwargs))


def test_events_and_upstream_flows_within_a_project():
    t = _triggers(
        trigger(events=["a", {"name": "b", "parameters": ["alpha"]}]),
        trigger_on_finish(flows=["Up", "other.prod.Up", {"name": "Up", "project": "x",
                                                          "project_branch": "prod"}]),
        project(name="shop"),
        options={"production": True},
    )  # fmt: skip
    assert t.events == (
        {"name": "a", "parameters": {}},
        {"name": "b", "parameters": {"alpha": "alpha"}},
    )
    assert t.flows == ("shop.prod.Up", "other.prod.Up", "x.prod.Up")


@pytest.mark.parametrize(
    ("deco", "message"),
    [
        (trigger(event="a", events=["b"]), "takes event= or events=, not both"),
        (trigger(), "needs event="),
        (trigger(event=3), "is not an event"),
        (trigger_on_finish(flow=["x"]), "is not a flow"),
    ],
)
def test_bad_triggers_say_why(deco, message):
    with pytest.raises(InvalidFlow, match=message):
        _triggers(deco)


def test_a_scheduled_flow_still_runs_locally(run_flow):
    proc = run_flow("scheduled_flow.py", "run")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        ("triggered_flow.py", "Airflow cannot do: pass the event's name only"),
    ],
)
def test_what_airflow_cannot_do_is_a_one_line_error(run_flow, tmp_path, flow, message):
    proc = run_flow(flow, "airflow", "create", str(tmp_path / "dag.py"))
    assert proc.returncode == 1
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "dag.py").exists()


def test_airflow_runs_a_dag_on_a_schedule_or_on_assets_not_both(run_flow, tmp_path):
    flow = tmp_path / "both_flow.py"
    flow.write_text(
        "from headwater import FlowSpec, schedule, step, trigger_on_finish\n"
        "@schedule(hourly=True)\n"
        "@trigger_on_finish(flow='Up')\n"
        "class BothFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    BothFlow()\n"
    )
    proc = run_flow(flow, "airflow", "create", str(tmp_path / "dag.py"))
    assert proc.returncode == 1
    assert "on a schedule or on assets, not both" in proc.stderr
