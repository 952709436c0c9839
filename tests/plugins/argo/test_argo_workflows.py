"""`argo-workflows create`: every graph shape compiled to Argo resources that validate
against Argo's own models (hera's, strict), and run here by a stand-in for Argo's controller
(argo_walker.py) to a run that reads back like the one `run` makes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from argo_schema import problems
from argo_walker import TaskFailed, Walker

TESTS = Path(__file__).resolve().parents[2]
FLOWS = TESTS / "flows"
sys.path.insert(0, str(TESTS / "runtime"))

from test_run_matrix import SHAPES, _expected  # noqa: E402
from test_scheduled_steps import _shape  # noqa: E402

from headwater import Flow, Run, metadata, namespace  # noqa: E402

IMAGE = "registry.example/headwater:test"


def create(flow_file: Path, hw_root: Path, *args: str, env=None) -> subprocess.CompletedProcess:
    full = {**os.environ, "HEADWATER_KUBERNETES_IMAGE": IMAGE, **(env or {})}
    cmd = [sys.executable, str(flow_file), *args]
    if "argo-workflows" not in args:
        cmd += ["argo-workflows", "create", "--only-json"]
    return subprocess.run(
        cmd, env=full, cwd=hw_root.parent, capture_output=True, text=True, timeout=120
    )


def resources(flow_file: Path, hw_root: Path, *args: str, env=None) -> dict[str, dict]:
    proc = create(flow_file, hw_root, *args, env=env)
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    assert listing["kind"] == "List"
    out = {}
    for item in listing["items"]:
        assert problems(item) == [], (item["kind"], problems(item)[:10])
        out[item["kind"]] = item
    return out


def walk(template: dict, name: str, arguments=None) -> Walker:
    """Run the template here as Argo would, with headwater's Python as the image's `python`."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    walker = Walker(template, name, env, arguments)
    walker.run()
    return walker


def _client(root: Path) -> None:
    metadata(f"local@{root}")
    namespace(None)


@pytest.mark.slow
@pytest.mark.parametrize("flow_file", SHAPES, ids=[p.stem for p in SHAPES])
def test_every_shape_compiled_for_argo_runs_like_run(flow_file, run_flow, hw_root):
    flow_name, expected = _expected(flow_file)
    made = run_flow(flow_file, "run")
    assert made.returncode == 0, made.stderr
    template = resources(flow_file, hw_root)["WorkflowTemplate"]
    walk(template, "wf-1")

    _client(hw_root)
    ran = re.search(rf"Run (\S+) of {flow_name} completed", made.stderr).group(1)
    by_argo, by_run = Flow(flow_name)["argo-wf-1"], Flow(flow_name)[ran]
    assert by_argo.successful and by_argo.finished
    for name, value in expected.items():
        assert getattr(by_argo.data, name) == value, name
    assert _shape(by_argo) == _shape(by_run)
    for step in by_argo:
        indexes = [-1 if t.index is None else t.index for t in step]
        assert indexes == sorted(indexes, reverse=True)
    assert "runtime:argo-workflows" in by_argo.system_tags


def _template(res: dict, name: str) -> dict:
    (found,) = [t for t in res["WorkflowTemplate"]["spec"]["templates"] if t["name"] == name]
    return found


@pytest.mark.slow
def test_parameters_retries_and_timeouts_of_a_deployed_flow(hw_root, tmp_path):
    flow = FLOWS / "production_flow.py"
    res = resources(flow, hw_root, "argo-workflows", "create", "--only-json", "--tag", "nightly",
                    "--max-workers", "5")  # fmt: skip
    spec = res["WorkflowTemplate"]["spec"]
    assert spec["parallelism"] == 5
    defaults = {p["name"]: p["value"] for p in spec["arguments"]["parameters"]}
    assert defaults == {
        "alpha": "0.5", "who": "ann", "fast": "false", "extra": '{"k": 1}', "fail-file": "",
    }  # fmt: skip
    flaky = _template(res, "step-flaky")
    assert flaky["retryStrategy"]["limit"] == 2
    assert flaky["retryStrategy"]["backoff"] == {"duration": "0s"}
    assert flaky["activeDeadlineSeconds"] >= 60
    assert "retryStrategy" not in _template(res, "step-start")

    fail_file = tmp_path / "failed-once"
    arguments = {"alpha": "2.5", "fast": "true", "extra": '{"k": 2}', "fail-file": str(fail_file)}
    walk(res["WorkflowTemplate"], "prod-1", arguments)
    _client(hw_root)
    run = Run("ProductionFlow/argo-prod-1")
    assert run.data.seen == {"alpha": 2.5, "who": "ann", "fast": True, "extra": {"k": 2}}
    flaky_task = run["flaky"].task
    assert flaky_task.current_attempt == 1 and flaky_task.data.attempt == 1
    assert "nightly" in run.tags
    token = res["WorkflowTemplate"]["metadata"]["annotations"]["headwater.dev/production-token"]
    assert f"production:{token}" in run.system_tags


@pytest.mark.slow
def test_a_task_that_must_not_be_retried_stops_the_workflow(hw_root, tmp_path):
    flow = tmp_path / "refusing_flow.py"
    flow.write_text(
        "from headwater import DoNotRetry, FlowSpec, retry, step\n"
        "class RefusingFlow(FlowSpec):\n"
        "    @retry(times=3, minutes_between_retries=0)\n"
        "    @step\n"
        "    def start(self):\n"
        "        raise DoNotRetry('this input can never work')\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    RefusingFlow()\n"
    )
    template = resources(flow, hw_root)["WorkflowTemplate"]
    with pytest.raises(TaskFailed, match="this input can never work"):
        walk(template, "r-1")
    _client(hw_root)
    run = Run("RefusingFlow/argo-r-1")
    assert not run.successful
    assert run["start"].task.current_attempt == 0  # 202: Argo's retryStrategy does not retry


def test_a_schedule_becomes_a_cron_workflow_and_project_branches_get_their_own_names(hw_root):
    flow = FLOWS / "scheduled_flow.py"
    prod = resources(flow, hw_root, "--production", "argo-workflows", "create", "--only-json")
    cron = prod["CronWorkflow"]
    assert cron["spec"]["schedules"] == ["30 2 * * 1"]
    assert cron["spec"]["timezone"] == "Europe/Paris"
    name = prod["WorkflowTemplate"]["metadata"]["name"]
    assert name == "demo-project.prod.scheduledflow"
    assert cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] == name
    branch = resources(flow, hw_root, "--branch", "exp", "argo-workflows", "create", "--only-json")
    assert branch["WorkflowTemplate"]["metadata"]["name"] == "demo-project.test.exp.scheduledflow"
    user = resources(flow, hw_root)["WorkflowTemplate"]["metadata"]["name"]
    assert user == "demo-project.user.tester.scheduledflow"
    refused = create(flow, hw_root, "argo-workflows", "create", "--only-json", "--name", "x")
    assert refused.returncode == 1
    assert "--name cannot be used with @project" in refused.stderr


def test_triggers_become_a_sensor_and_flows_announce_that_they_finished(hw_root):
    env = {"HEADWATER_ARGO_EVENTS_WEBHOOK_URL": "http://events.example:12000/headwater"}
    res = resources(FLOWS / "triggered_flow.py", hw_root, env=env)
    sensor = res["Sensor"]["spec"]
    filters = [d["filters"]["data"][0]["value"] for d in sensor["dependencies"]]
    assert filters == [["data_ready"], ["table_updated"], ["headwater.finished.ProductionFlow"]]
    trigger = sensor["triggers"][0]["template"]
    assert trigger["conditions"] == "event-0 || event-1 || flow-0"
    assert trigger["argoWorkflow"]["parameters"] == [
        {
            "src": {"dependencyName": "event-1", "dataKey": "body.payload.name"},
            "dest": "spec.arguments.parameters.0.value",
        }
    ]
    workflow = trigger["argoWorkflow"]["source"]["resource"]
    assert workflow["spec"]["workflowTemplateRef"]["name"] == "triggeredflow"
    spec = res["WorkflowTemplate"]["spec"]
    hook = _template(res, spec["onExit"])
    env_of = {e["name"]: e["value"] for e in hook["container"]["env"]}
    assert env_of["HW_EVENT"] == "headwater.finished.TriggeredFlow"
    assert env_of["HW_URL"] == env["HEADWATER_ARGO_EVENTS_WEBHOOK_URL"]


def test_kubernetes_settings_shape_the_pods_and_secrets_stay_out_of_the_manifest(hw_root, tmp_path):
    flow = tmp_path / "pod_flow.py"
    flow.write_text(
        "from headwater import FlowSpec, kubernetes, resources, step\n"
        "class PodFlow(FlowSpec):\n"
        "    @kubernetes(image='team/flows:2', cpu=2, memory=8000, gpu=1, secrets=['s3-creds'],\n"
        "                node_selector='pool=gpu', tolerations=[{'key': 'gpu',\n"
        "                'operator': 'Exists', 'effect': 'NoSchedule'}], labels={'team': 'ml'},\n"
        "                service_account='trainer')\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n"
        "    @resources(memory=16000)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    PodFlow()\n"
    )
    env = {
        "HEADWATER_SERVICE_TOKEN": "very-secret-token",
        "HEADWATER_KUBERNETES_SECRET": "hw-settings",
    }
    proc = create(flow, hw_root, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "very-secret-token" not in proc.stdout
    res = {r["kind"]: r for r in json.loads(proc.stdout)["items"]}
    assert problems(res["WorkflowTemplate"]) == []
    start = _template(res, "step-start")
    c = start["container"]
    assert c["image"] == "team/flows:2"
    assert c["resources"]["limits"] == {
        "cpu": "2", "memory": "8000M", "ephemeral-storage": "10240M", "nvidia.com/gpu": "1",
    }  # fmt: skip
    assert c["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    token = [e for e in c["env"] if e["name"] == "HEADWATER_SERVICE_TOKEN"]
    assert token == [
        {
            "name": "HEADWATER_SERVICE_TOKEN",
            "valueFrom": {
                "secretKeyRef": {"name": "hw-settings", "key": "HEADWATER_SERVICE_TOKEN"}
            },
        }
    ]
    assert start["nodeSelector"] == {"pool": "gpu"}
    assert start["tolerations"][0]["key"] == "gpu"
    assert start["metadata"] == {"labels": {"team": "ml"}}
    assert start["serviceAccountName"] == "trainer"
    end = _template(res, "step-end")["container"]
    assert end["image"] == IMAGE  # from the setting
    assert end["resources"]["requests"]["memory"] == "16000M"  # @resources


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["argo-workflows", "create"], {"PATH": "/nonexistent"}, "kubectl is not installed"),
        (["argo-workflows", "create", "--only-json"], {"HEADWATER_KUBERNETES_IMAGE": ""},
         "needs a container image"),
    ],
)  # fmt: skip
def test_what_cannot_be_deployed_says_why_in_one_line(hw_root, args, env, message):
    proc = create(FLOWS / "linear.py", hw_root, *args, env=env)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_schema_check_refuses_fields_argo_does_not_have(hw_root):
    template = resources(FLOWS / "foreach.py", hw_root)["WorkflowTemplate"]
    template["spec"]["templates"][0]["dag"]["tasks"][0]["withParams"] = "[]"  # a typo
    assert any("withParams" in p for p in problems(template))
