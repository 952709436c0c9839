"""An Airflow 3 DAG file for a flow: ``CONFIG`` (what the flow is) over the DAG runtime.

The file is self-contained: Airflow's Python needs nothing from headwater. It holds the
deployment as a Python literal (units, steps, parameters, schedule, the settings of the tasks
but never a secret), a copy of :mod:`headwater.plugins.airflow.dag_runtime`, and one call that
builds the DAG. Steps with ``@kubernetes`` run in a ``KubernetesPodOperator`` whose pod spec
comes from :mod:`headwater.plugins.kubernetes`.
"""

from __future__ import annotations

import os
import pprint
from collections.abc import Mapping
from pathlib import Path

from headwater.exceptions import InvalidFlow
from headwater.plugins.deploy.deployment import TIMEOUT_GRACE_S, Deployment

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

AIRFLOW_VERSION = "3"  # the Airflow the DAG is written for (airflow.sdk)
FLOW_ASSET = "headwater://flow/{name}"  # updated when a run of the deployed flow ends
EVENT_ASSET = "headwater://event/{name}"  # @trigger(event=NAME) on Airflow


POD_OUTPUT_DIR = "/tmp/headwater-outputs"
XCOM_FILE = "/airflow/xcom/return.json"  # where a KubernetesPodOperator's XCom comes from


def dag_config(
    dep: Deployment, code_package: str | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The ``CONFIG`` literal of the DAG file (``code_package``: the package pods unpack,
    needed when a step has @kubernetes)."""
    environ = os.environ if environ is None else environ
    units = {}
    start_unit = ""
    end_unit = ""
    for unit in dep.units:
        single = None if unit.is_loop else dep.steps[unit.steps[0]]
        if dep.graph.start in unit.steps:
            start_unit = unit.id
        if dep.graph.end in unit.steps:
            end_unit = unit.id
        kube = [dep.steps[s].kubernetes for s in unit.steps if dep.steps[s].kubernetes]
        if kube and unit.is_loop:
            raise InvalidFlow(
                f"step {unit.steps[0]!r} has @kubernetes inside a loop: Airflow runs a loop as "
                "one task; move @kubernetes off the loop's steps"
            )
        timeout = single.timeout_s if single is not None else None
        units[unit.id] = {
            "id": unit.id,
            "steps": list(unit.steps),
            "entries": list(unit.entries),
            "sources": list(unit.sources),
            "mapped": unit.mapped,
            "is_loop": unit.is_loop,
            "direct": unit.direct,
            "planned_by": unit.planned_by,
            "retries": single.retries if single is not None else 0,
            "retry_delay_s": single.retry_delay_s if single is not None else 0,
            "timeout_s": int(timeout + TIMEOUT_GRACE_S) if timeout else None,
            "kubernetes": bool(kube),
            "outlets": [],
        }
    for unit in dep.units:
        if units[unit.id]["kubernetes"]:
            units[unit.id].update(_pod_unit(dep, unit.steps[0], code_package, environ))
            for other in units.values():
                if other["planned_by"] == unit.id:
                    other["planned_by"] = "plan"
    units[end_unit]["outlets"] = [FLOW_ASSET.format(name=dep.name)]
    t = dep.triggers
    assets = [EVENT_ASSET.format(name=e["name"]) for e in t.events]
    assets += [FLOW_ASSET.format(name=f) for f in t.flows]
    return {
        "dag_id": dep.name,
        "flow": dep.flow,
        "flow_file": dep.flow_file,
        "python": dep.python,
        "cwd": dep.cwd,
        "top_args": list(dep.top_args),
        "env": dict(dep.env),
        "owner": dep.user,
        "tags": list(dep.tags),
        "production_token": dep.production_token,
        "max_workers": dep.max_workers,
        "params": [p.to_json() for p in dep.params],
        "start_unit": start_unit,
        "start_step": dep.graph.start,
        "order": [u.id for u in dep.units],
        "units": units,
        "steps": {
            name: {"is_join": s.is_join, "retries": s.retries, "retry_delay_s": s.retry_delay_s}
            for name, s in dep.steps.items()
        },
        "schedule": t.cron,
        "timezone": t.timezone,
        "assets": assets,
        "description": (dep.description.splitlines() or [""])[0],
        "doc_md": dep.description,
    }


def _pod_unit(
    dep: Deployment, step: str, code_package: str | None, environ: Mapping[str, str]
) -> dict[str, Any]:
    """What a KubernetesPodOperator needs: the pod, and the script its plan fills in."""
    from headwater.plugins.argo.dag_shape import dns_name
    from headwater.plugins.deploy import pod_spec

    assert code_package is not None, "a @kubernetes step needs the code package"
    xcom = (
        f"mkdir -p {os.path.dirname(XCOM_FILE)} && python -c 'import json; "
        f'print(json.dumps([json.load(open("{POD_OUTPUT_DIR}/task.json"))]))\' > {XCOM_FILE}'
    )
    script = pod_spec.step_script(
        dep,
        step,
        code_package,
        runtime="airflow",
        run_id="__HW_RUN_ID__",
        retry_count="{{ ti.try_number - 1 }}",
        input_paths=None,
        split_index=None,
        output_dir=POD_OUTPUT_DIR,
        init_args="__HW_INIT_ARGS__",
        step_args="__HW_STEP_ARGS__",
        after=[xcom],
    )
    return {
        "pod": pod_spec.pod_manifest(dep, step, environ),
        "pod_name": dns_name(step),
        "namespace": pod_spec.namespace(dep, environ),
        "pod_script": script,
        "reports_key": "return_value",
        "planned_by": "plan",
        "direct": None,
    }


def _runtime_source() -> str:
    text = (Path(__file__).parent / "dag_runtime.py").read_text(encoding="utf-8")
    # Drop the module docstring: the file's own header says what it is.
    end = text.index('"""', 3) + 3
    return text[end:].lstrip("\n")


def dag_file_text(
    dep: Deployment,
    source_name: str,
    code_package: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The whole DAG file."""
    config = pprint.pformat(
        dag_config(dep, code_package, environ), indent=1, width=100, sort_dicts=False
    )
    secrets = ", ".join(dep.secret_env)
    secret_note = (
        f"\nThe workers must have {secrets} in their environment: this file never holds it.\n"
        if secrets
        else ""
    )
    header = (
        f'"""{dep.flow} as an Airflow DAG ({dep.name}), compiled by headwater from '
        f"{source_name}.\n\n"
        f"Do not edit: change the flow and run `python {source_name} airflow create` again.\n"
        f"Every task runs {dep.python}.\n"
        "A run's parameters come from the DAG run's params (dag_run.conf), with the flow's\n"
        "defaults; its headwater run id is derived from the Airflow run id.\n"
        f"{secret_note}"
        '"""\n\n'
    )
    return f"{header}CONFIG = {config}\n\n{_runtime_source()}\n\ndag = build_dag(CONFIG)\n"
