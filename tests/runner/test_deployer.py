"""`Deployer("flow.py")`: deploy to Airflow (a real one) and to Argo Workflows from Python,
as the command line does."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
FLOWS = TESTS / "flows"
sys.path.insert(0, str(TESTS / "plugins" / "airflow"))
sys.path.insert(0, str(TESTS / "plugins" / "argo"))

from airflow_env import AirflowHome, ensure_venv  # noqa: E402
from argo_schema import problems  # noqa: E402

from headwater import Deployer  # noqa: E402
from headwater.exceptions import RunnerError  # noqa: E402


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> AirflowHome:
    home = AirflowHome(ensure_venv(), tmp_path_factory.mktemp("deployer-airflow"))
    home.migrate()
    return home


@pytest.mark.slow
@pytest.mark.airflow
@pytest.mark.timeout(1800)
def test_deploy_trigger_and_delete_on_airflow(airflow_home, client):
    airflow = str(airflow_home.venv / "bin/airflow")
    deployer = Deployer(
        FLOWS / "production_flow.py", show_output=False, env=airflow_home.env, cwd=client.parent
    )
    deployed = deployer.airflow(dags_folder=airflow_home.dags, airflow=airflow).create(
        max_workers=3, tags=["nightly"]
    )
    assert deployed.name == "ProductionFlow" and deployed.flow_name == "ProductionFlow"
    assert deployed.production_token
    dag_file = Path(deployed.attributes["dag_file"])
    assert dag_file.parent == airflow_home.dags and dag_file.exists()
    # Deployed again: the same token; a new one only when asked.
    again = deployer.airflow(dags_folder=airflow_home.dags, airflow=airflow).create()
    assert again.production_token == deployed.production_token
    renewed = deployer.airflow(dags_folder=airflow_home.dags, airflow=airflow).create(
        new_token=True
    )
    assert renewed.production_token != deployed.production_token
    deployed = renewed

    triggered = deployed.trigger(alpha=0.75, who="bob")
    assert triggered.pathspec.startswith("ProductionFlow/airflow-")
    listed = airflow_home.command("dags", "list-runs", "ProductionFlow", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    (mine,) = [r for r in json.loads(listed.stdout) if r["run_id"] == triggered.handle]
    assert mine["state"] == "queued"  # no scheduler runs here: Airflow has queued it
    assert triggered.run is None  # headwater sees the run once its first task starts

    assert deployed.delete()
    assert not dag_file.exists()


def test_argo_workflows_deployment_from_python(client, tmp_path):
    out = tmp_path / "resources.json"
    env = {"HEADWATER_KUBERNETES_IMAGE": "registry.example/headwater:1", "PATH": "/nonexistent"}
    deployer = Deployer(FLOWS / "scheduled_flow.py", show_output=False, env=env,
                        cwd=client.parent, production=True)  # fmt: skip
    argo = deployer.argo_workflows()
    deployed = argo.create(output=str(out))
    assert deployed.name == "demo_project.prod.ScheduledFlow"
    items = json.loads(out.read_text())["items"]
    assert [i["kind"] for i in items] == ["WorkflowTemplate", "CronWorkflow"]
    token = items[0]["metadata"]["annotations"]["headwater.dev/production-token"]
    assert deployed.production_token == token
    workflow = argo.workflow(deployed, {"anything": 1})
    assert workflow["spec"]["workflowTemplateRef"]["name"] == "demo-project.prod.scheduledflow"
    assert problems(workflow) == []
    with pytest.raises(RunnerError, match="kubectl is not installed"):
        deployed.trigger()
    with pytest.raises(RunnerError, match="--name cannot be used with @project"):
        Deployer(FLOWS / "scheduled_flow.py", show_output=False, env=env,
                 cwd=client.parent).argo_workflows(name="x").create(output=str(out))  # fmt: skip


def test_a_missing_flow_file_is_a_one_line_error(tmp_path):
    with pytest.raises(RunnerError, match="not found"):
        Deployer(tmp_path / "nope.py")
