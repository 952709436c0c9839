"""`airflow create`: every graph shape compiled to an Airflow 3 DAG and run by a real Airflow
(`airflow dags test`), then read back as if `run` had made it.

The DAGs of one session share an AIRFLOW_HOME; each shape keeps its runs in a datastore root
of its own, where the test also makes the same run with `run` to compare.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from airflow_env import AirflowHome, ensure_venv

TESTS = Path(__file__).resolve().parents[2]
FLOWS = TESTS / "flows"
sys.path.insert(0, str(TESTS / "runtime"))

from test_run_matrix import SHAPES, _expected  # noqa: E402
from test_scheduled_steps import _shape  # noqa: E402

from headwater import Flow, Run, metadata, namespace  # noqa: E402
from headwater.plugins.airflow.dag_runtime import headwater_run_id  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> AirflowHome:
    home = AirflowHome(ensure_venv(), tmp_path_factory.mktemp("airflow-home"))
    home.migrate()
    return home


def compile_dag(flow_file: Path, root: Path, dag_file: Path, *args: str, env=None):
    """`python flow.py [args] airflow create dag_file` with ``root`` as the datastore."""
    full_env = {**os.environ, "HEADWATER_ROOT": str(root), "HEADWATER_USER": "tester"}
    full_env.update(env or {})
    if "airflow" not in args:
        args = (*args, "airflow", "create", str(dag_file))
    return subprocess.run(
        [sys.executable, str(flow_file), *args],
        env=full_env,
        cwd=root.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def shape_runs(airflow_home, tmp_path_factory) -> dict:
    """Every shape compiled and run once by Airflow: {flow file: (root, DAG result)}."""
    roots = {}
    for flow_file in SHAPES:
        root = tmp_path_factory.mktemp(f"af-{flow_file.stem}") / ".headwater"
        proc = compile_dag(flow_file, root, airflow_home.dags / f"{flow_file.stem}.py")
        assert proc.returncode == 0, proc.stderr
        roots[flow_file] = root
    results = airflow_home.test_dags(*(_expected(f)[0] for f in SHAPES))
    return {f: (roots[f], results[_expected(f)[0]]) for f in SHAPES}


def _client(root: Path) -> None:
    metadata(f"local@{root}")
    namespace(None)


@pytest.mark.parametrize("flow_file", SHAPES, ids=[p.stem for p in SHAPES])
def test_every_shape_run_by_airflow_reads_back_like_run(flow_file, shape_runs, run_flow):
    flow_name, expected = _expected(flow_file)
    root, result = shape_runs[flow_file]
    assert result["state"] == "success", result["output"][-6000:]
    made = run_flow(flow_file, "run", env={"HEADWATER_ROOT": str(root)})
    assert made.returncode == 0, made.stderr

    _client(root)
    run_id = headwater_run_id(flow_name, result["run_id"])
    ran = re.search(rf"Run (\S+) of {flow_name} completed", made.stderr).group(1)
    by_airflow, by_run = Flow(flow_name)[run_id], Flow(flow_name)[ran]
    assert by_airflow.successful and by_airflow.finished
    for name, value in expected.items():
        assert getattr(by_airflow.data, name) == value, name
    assert _shape(by_airflow) == _shape(by_run)
    for step in by_airflow:  # foreach order, as the client lists tasks (newest first)
        indexes = [-1 if t.index is None else t.index for t in step]
        assert indexes == sorted(indexes, reverse=True)
    assert "runtime:airflow" in by_airflow.system_tags
    assert any(t.startswith("production:") for t in by_airflow.system_tags)
    assert by_airflow.user == "tester"  # the deployer, not whoever runs the worker


def test_parameters_come_from_the_dag_run_conf_with_the_flows_defaults(
    airflow_home, hw_root, tmp_path
):
    flow = FLOWS / "production_flow.py"
    dag = airflow_home.dags / "production_flow.py"
    proc = compile_dag(flow, hw_root, dag, "airflow", "create", str(dag), "--tag", "nightly")
    assert proc.returncode == 0, proc.stderr
    fail_file = tmp_path / "failed-once"
    conf = f'{{"alpha": 2.5, "fast": true, "extra": {{"k": 2}}, "fail-file": "{fail_file}"}}'
    results = airflow_home.test_dags(f"ProductionFlow={conf}")
    result = results["ProductionFlow"]
    assert result["state"] == "success", result["output"][-6000:]

    _client(hw_root)
    run = Run(f"ProductionFlow/{headwater_run_id('ProductionFlow', result['run_id'])}")
    assert run.data.seen == {"alpha": 2.5, "who": "ann", "fast": True, "extra": {"k": 2}}
    # flaky failed once and Airflow retried it (its @retry): attempt 1 succeeded
    flaky = run["flaky"].task
    assert flaky.current_attempt == 1 and flaky.data.attempt == 1
    assert fail_file.exists()
    assert "nightly" in run.tags
    assert f"production:{_token(hw_root, 'ProductionFlow')}" in run.system_tags


def _token(root: Path, flow: str, target: str = "airflow") -> str:
    from headwater.plugins.deploy.tokens import read_deployment
    from headwater.stores import open_datastore

    rec = read_deployment(open_datastore("local", str(root)), flow, target, flow)
    assert rec is not None
    return str(rec["production_token"])


def test_a_failing_task_fails_the_dag_run_and_the_run(airflow_home, hw_root, tmp_path):
    flow = tmp_path / "broken_flow.py"
    flow.write_text(
        "from headwater import FlowSpec, step\n"
        "class BrokenFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        raise RuntimeError('broken on purpose')\n"
        "if __name__ == '__main__':\n"
        "    BrokenFlow()\n"
    )
    assert compile_dag(flow, hw_root, airflow_home.dags / "broken.py").returncode == 0
    result = airflow_home.test_dags("BrokenFlow")["BrokenFlow"]
    assert result["state"] == "failed"
    assert "RuntimeError: broken on purpose" in result["output"]
    _client(hw_root)
    run = Run(f"BrokenFlow/{headwater_run_id('BrokenFlow', result['run_id'])}")
    assert not run.successful
    assert "broken on purpose" in str(run["end"].task.exception)


def test_airflow_reads_the_dags_settings(airflow_home, hw_root, tmp_path):
    """Retries, timeouts, mapping, schedules, assets and params as Airflow sees them."""
    scheduled = airflow_home.dags / "scheduled_flow.py"
    proc = compile_dag(FLOWS / "scheduled_flow.py", hw_root, scheduled, "--production")
    assert proc.returncode == 0, proc.stderr
    after = tmp_path / "after_flow.py"
    after.write_text(
        "from headwater import FlowSpec, step, trigger_on_finish\n"
        "@trigger_on_finish(flow='ProductionFlow')\n"
        "class AfterFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    AfterFlow()\n"
    )
    assert compile_dag(after, hw_root, airflow_home.dags / "after.py").returncode == 0
    prod = airflow_home.dags / "production_flow.py"
    proc = compile_dag(FLOWS / "production_flow.py", hw_root, prod, "airflow", "create",
                       str(prod), "--max-workers", "7")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    foreach = airflow_home.dags / "foreach_settings.py"
    proc = compile_dag(FLOWS / "nested_foreach.py", hw_root, foreach, "airflow", "create",
                       str(foreach), "--name", "NestedSettings")  # fmt: skip
    assert proc.returncode == 0, proc.stderr

    seen = airflow_home.describe()
    assert seen["import_errors"] == {}
    dags = seen["dags"]
    sched = dags["demo_project.prod.ScheduledFlow"]
    assert (sched["cron"], sched["timezone"]) == ("30 2 * * 1", "Europe/Paris")
    assert dags["AfterFlow"]["assets"] == ["headwater://flow/ProductionFlow"]
    production = dags["ProductionFlow"]
    assert production["max_active_tasks"] == 7
    assert production["params"] == {
        "alpha": 0.5, "who": "ann", "fast": False, "extra": '{"k": 1}', "fail-file": "",
    }  # fmt: skip
    flaky = production["tasks"]["flaky"]
    assert (flaky["retries"], flaky["retry_delay_s"]) == (2, 0.0)
    assert flaky["execution_timeout_s"] >= 60
    assert production["tasks"]["end"]["outlets"] == ["headwater://flow/ProductionFlow"]
    nested = dags["NestedSettings"]["tasks"]
    assert nested["outer"]["mapped"] and nested["inner"]["mapped"]
    assert not nested["start"]["mapped"] and not nested["join_outer"]["mapped"]
    assert nested["inner"]["upstream"] == ["plan_inner"]


def test_kubernetes_steps_run_in_pods_whose_spec_kubernetes_accepts(
    airflow_home, hw_root, tmp_path
):
    sys.path.insert(0, str(TESTS / "plugins" / "argo"))
    from argo_schema import strict_model_problems

    flow = tmp_path / "pod_flow.py"
    flow.write_text(
        "from headwater import FlowSpec, kubernetes, step\n"
        "class AirPodFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.items = [1, 2]\n"
        "        self.next(self.work, foreach='items')\n"
        "    @kubernetes(image='team/flows:3', cpu=2, secrets=['creds'],\n"
        "                tolerations=[{'key': 'gpu', 'operator': 'Exists'}])\n"
        "    @step\n"
        "    def work(self):\n"
        "        self.next(self.join)\n"
        "    @step\n"
        "    def join(self, inputs):\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    AirPodFlow()\n"
    )
    env = {"HEADWATER_SERVICE_TOKEN": "not-in-the-file", "HEADWATER_DEFAULT_METADATA": "local"}
    dag = airflow_home.dags / "air_pod.py"
    assert compile_dag(flow, hw_root, dag, env=env).returncode == 0
    assert "not-in-the-file" not in dag.read_text()
    seen = airflow_home.describe()
    assert seen["import_errors"] == {}
    tasks = seen["dags"]["AirPodFlow"]["tasks"]
    work = tasks["work"]
    assert work["operator"] == "MappedOperator" and work["upstream"] == ["plan_work"]
    pod = work["partial"]["pod_template_dict"]
    assert work["partial"]["cmds"] == ["bash", "-c"] and work["partial"]["do_xcom_push"]
    (container,) = pod["spec"]["containers"]
    assert container["name"] == "base" and container["image"] == "team/flows:3"
    assert container["resources"]["requests"]["cpu"] == "2"
    assert container["envFrom"] == [{"secretRef": {"name": "creds"}}]
    assert strict_model_problems("Container", container) == []
    assert strict_model_problems("Toleration", pod["spec"]["tolerations"][0]) == []
    assert strict_model_problems("ObjectMeta", pod["metadata"]) == []
    assert sorted(pod["spec"]) == ["containers", "restartPolicy", "tolerations"]
    assert not tasks["join"]["mapped"]  # the join plans itself from the pods' XCom
