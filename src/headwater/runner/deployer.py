"""``Deployer("flow.py")``: deploy a flow to a production orchestrator from Python.

As in Metaflow: pick an orchestrator (``.airflow(...)``, ``.argo_workflows(...)``), call
``create(...)`` and get a :class:`DeployedFlow` (``name``, ``production_token``,
``trigger(**parameters)``, ``delete()``); ``trigger`` returns a :class:`TriggeredRun` whose
``run`` is the client's Run once the orchestrator has started it. Each call runs the same
command as the command line (``python flow.py ... airflow create``), so what a Deployer
deploys is exactly what a person would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from headwater.exceptions import RunnerError
from headwater.runner.command import option, top_level_args
from headwater.runner.process import child_env

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class Deployer:
    """Deploy ``flow_file``: ``kwargs`` are its top-level options (``production=True``,
    ``branch="b"``, ``datastore_root=...``), ``env`` adds to the environment."""

    def __init__(
        self,
        flow_file: str | os.PathLike[str],
        show_output: bool = True,
        profile: str | None = None,
        env: Mapping[str, Any] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        file_read_timeout: float = 3600,
        **kwargs: Any,
    ) -> None:
        path = Path(flow_file).expanduser().resolve()
        if not path.is_file():
            raise RunnerError(
                f"flow file {str(flow_file)!r} not found: give the path of a .py file"
            )
        self.flow_file = path
        self.show_output = show_output
        self.profile = profile  # accepted for Metaflow compatibility
        self.env = child_env(os.environ, env)
        self.cwd = str(Path(cwd).resolve()) if cwd is not None else os.getcwd()
        self.file_read_timeout = file_read_timeout
        self.top_level_kwargs = dict(kwargs)

    def airflow(
        self,
        dags_folder: str | os.PathLike[str] | None = None,
        airflow: str = "airflow",
        name: str | None = None,
    ) -> AirflowDeployer:
        """Deploy as an Airflow DAG file in ``dags_folder`` (default: Airflow's own, asked of
        the ``airflow`` command). ``airflow`` is the command that triggers and deletes runs."""
        return AirflowDeployer(self, dags_folder, airflow, name)

    def argo_workflows(self, name: str | None = None) -> ArgoWorkflowsDeployer:
        """Deploy as Argo Workflows resources (applied with kubectl, or written to a file)."""
        return ArgoWorkflowsDeployer(self, name)

    # --- running the flow's commands ------------------------------------------------------------
    def _command(self, *args: str) -> dict[str, Any]:
        """Run ``python flow.py [top-level options] ARGS --deployer-attribute-file F`` and
        return what the command wrote there."""
        with tempfile.TemporaryDirectory(prefix="headwater-deployer-") as tmp:
            attributes = Path(tmp) / "deployment.json"
            argv = [
                sys.executable,
                str(self.flow_file),
                *top_level_args(self.top_level_kwargs),
                *args,
                "--deployer-attribute-file",
                str(attributes),
            ]
            proc = subprocess.run(
                argv,
                env=self.env,
                cwd=self.cwd,
                capture_output=True,
                text=True,
                timeout=self.file_read_timeout,
                check=False,
            )
            if self.show_output:
                sys.stdout.write(proc.stdout)
                sys.stderr.write(proc.stderr)
            if proc.returncode != 0 or not attributes.exists():
                raise RunnerError(
                    f"{self.flow_file.name} {' '.join(args[:2])} failed: {_headline(proc.stderr)}"
                )
            return json.loads(attributes.read_text())


def _headline(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("error: "):
            return line[len("error: ") :]
    return lines[-1] if lines else "it printed nothing"


def _options(kwargs: Mapping[str, Any]) -> list[str]:
    """``create(max_workers=4, tags=["a"])`` as command-line words."""
    words: list[str] = []
    for key, value in kwargs.items():
        flag = "--tag" if key in ("tags", "tag") else option(key)
        if value is None or value is False:
            continue
        if value is True:
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return words


class DeployedFlow:
    """A flow deployed to an orchestrator."""

    def __init__(self, deployer: Any, attributes: Mapping[str, Any]) -> None:
        self.deployer = deployer
        self.attributes = dict(attributes)
        self.name: str = attributes["name"]
        self.flow_name: str = attributes["flow"]
        self.production_token: str = attributes["production_token"]
        self.target: str = attributes["target"]

    def trigger(self, **parameters: Any) -> TriggeredRun:
        """Start a run now, with ``parameters`` (the others take their defaults)."""
        return self.deployer._trigger(self, parameters)

    def delete(self) -> bool:
        """Remove the deployment; True when something was removed."""
        return bool(self.deployer._delete(self))

    def __repr__(self) -> str:
        return f"DeployedFlow({self.target}: {self.name})"


class TriggeredRun:
    """A run the orchestrator was asked to start."""

    def __init__(self, deployed: DeployedFlow, run_id: str, handle: str) -> None:
        self.deployed_flow = deployed
        self.run_id = run_id  # the headwater run id
        self.handle = handle  # the orchestrator's id (Airflow run id, Argo workflow name)
        self.pathspec = f"{deployed.flow_name}/{run_id}"

    @property
    def run(self) -> Any:
        """The client's Run, once the orchestrator has started it (None before)."""
        from headwater.client.namespaces import namespace
        from headwater.client.run import Run
        from headwater.exceptions import HeadwaterException

        try:
            with _all_namespaces(namespace):
                return Run(self.pathspec)
        except HeadwaterException:
            return None

    def wait_for_run(self, timeout: float = 600, poll_s: float = 1.0) -> Any:
        """Wait until the run exists; the client's Run."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run
            if run is not None:
                return run
            if time.monotonic() > deadline:
                raise RunnerError(f"run {self.pathspec} did not start within {timeout:g} s")
            time.sleep(poll_s)

    def __repr__(self) -> str:
        return f"TriggeredRun({self.pathspec})"


class _all_namespaces:
    def __init__(self, namespace: Any) -> None:
        self.namespace = namespace

    def __enter__(self) -> None:
        from headwater.client.namespaces import get_namespace

        self.saved = get_namespace()
        self.namespace(None)

    def __exit__(self, *exc: Any) -> None:
        self.namespace(self.saved)


class AirflowDeployer:
    TYPE = "airflow"

    def __init__(
        self,
        deployer: Deployer,
        dags_folder: str | os.PathLike[str] | None,
        airflow: str,
        name: str | None,
    ) -> None:
        self.deployer = deployer
        self.dags_folder = dags_folder
        self.airflow = airflow
        self.name = name

    def _airflow(self, *args: str) -> subprocess.CompletedProcess:
        command = shutil.which(self.airflow, path=self.deployer.env.get("PATH")) or self.airflow
        try:
            return subprocess.run(
                [command, *args],
                env=self.deployer.env,
                cwd=self.deployer.cwd,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        except OSError as ex:
            raise RunnerError(
                f"cannot run {self.airflow!r} ({ex.strerror}): pass airflow= the path of the "
                "airflow command"
            ) from None

    def _folder(self) -> Path:
        if self.dags_folder is not None:
            return Path(self.dags_folder).expanduser().resolve()
        proc = self._airflow("config", "get-value", "core", "dags_folder")
        if proc.returncode != 0 or not proc.stdout.strip():
            raise RunnerError(
                f"cannot ask Airflow for its dags folder ({_headline(proc.stderr)}): pass "
                "dags_folder="
            )
        return Path(proc.stdout.strip().splitlines()[-1])

    def create(self, **kwargs: Any) -> DeployedFlow:
        """Write the DAG file; ``kwargs`` are options of ``airflow create`` (``max_workers``,
        ``tags``, ``new_token``, ``python``, ``file``: the DAG file's name)."""
        folder = self._folder()
        folder.mkdir(parents=True, exist_ok=True)
        info = self.deployer  # the flow's name comes back in the attributes
        file_name = kwargs.pop("file", None)
        if self.name and "name" not in kwargs:
            kwargs["name"] = self.name
        tmp_name = file_name or f"{info.flow_file.stem}_dag.py"
        attributes = info._command("airflow", "create", str(folder / tmp_name), *_options(kwargs))
        return DeployedFlow(self, attributes)

    def _trigger(self, deployed: DeployedFlow, parameters: Mapping[str, Any]) -> TriggeredRun:
        from headwater.plugins.airflow.dag_runtime import headwater_run_id

        dag_id = deployed.attributes["dag_id"]
        handle = f"headwater__{time.strftime('%Y%m%dT%H%M%S')}_{os.urandom(3).hex()}"
        args = ["dags", "trigger", dag_id, "--run-id", handle]
        if parameters:
            args += ["--conf", json.dumps(dict(parameters))]
        proc = self._airflow(*args)
        if proc.returncode != 0 and "not found" in (proc.stdout + proc.stderr).lower():
            self._airflow("dags", "reserialize")  # the DAG processor has not seen it yet
            proc = self._airflow(*args)
        if proc.returncode != 0:
            raise RunnerError(f"airflow dags trigger {dag_id} failed: {_headline(proc.stderr)}")
        return TriggeredRun(deployed, headwater_run_id(dag_id, handle), handle)

    def _delete(self, deployed: DeployedFlow) -> bool:
        removed = False
        dag_file = Path(deployed.attributes["dag_file"])
        if dag_file.exists():
            dag_file.unlink()
            removed = True
        proc = self._airflow("dags", "delete", deployed.attributes["dag_id"], "--yes")
        return removed or proc.returncode == 0


class ArgoWorkflowsDeployer:
    TYPE = "argo-workflows"

    def __init__(self, deployer: Deployer, name: str | None) -> None:
        self.deployer = deployer
        self.name = name

    def create(self, **kwargs: Any) -> DeployedFlow:
        """Deploy; ``kwargs`` are options of ``argo-workflows create`` (``max_workers``,
        ``tags``, ``new_token``; ``output="file.json"`` writes the resources instead of
        applying them with kubectl)."""
        if self.name and "name" not in kwargs:
            kwargs["name"] = self.name
        attributes = self.deployer._command("argo-workflows", "create", *_options(kwargs))
        return DeployedFlow(self, attributes)

    def workflow(self, deployed: DeployedFlow, parameters: Mapping[str, Any]) -> dict:
        """The Workflow that ``trigger`` submits: the template with these parameters."""
        from headwater.plugins.argo.workflow_template import API_VERSION, param_text

        name = f"{deployed.attributes['argo_name']}-{os.urandom(3).hex()}"[:63].rstrip("-.")
        return {
            "apiVersion": API_VERSION,
            "kind": "Workflow",
            "metadata": {"name": name, "namespace": deployed.attributes["namespace"]},
            "spec": {
                "workflowTemplateRef": {"name": deployed.attributes["argo_name"]},
                "arguments": {
                    "parameters": [
                        {"name": k, "value": param_text(v)} for k, v in parameters.items()
                    ]
                },
            },
        }

    def _kubectl(self, *args: str, text: str | None = None) -> subprocess.CompletedProcess:
        kubectl = shutil.which("kubectl", path=self.deployer.env.get("PATH"))
        if kubectl is None:
            raise RunnerError(
                "kubectl is not installed here: Argo Workflows runs are started and deleted "
                "through kubectl"
            )
        return subprocess.run(
            [kubectl, *args], input=text, env=self.deployer.env, capture_output=True, text=True,
            check=False,
        )  # fmt: skip

    def _trigger(self, deployed: DeployedFlow, parameters: Mapping[str, Any]) -> TriggeredRun:
        workflow = self.workflow(deployed, parameters)
        proc = self._kubectl("create", "-f", "-", text=json.dumps(workflow))
        if proc.returncode != 0:
            raise RunnerError(f"kubectl create failed: {_headline(proc.stderr)}")
        name = workflow["metadata"]["name"]
        return TriggeredRun(deployed, f"argo-{name}", name)

    def _delete(self, deployed: DeployedFlow) -> bool:
        ns = deployed.attributes["namespace"]
        name = deployed.attributes["argo_name"]
        kinds = ["workflowtemplate", "cronworkflow", "sensor"]
        proc = self._kubectl(
            "delete", "-n", ns, "--ignore-not-found", *[f"{k}/{name}" for k in kinds]
        )
        return proc.returncode == 0
