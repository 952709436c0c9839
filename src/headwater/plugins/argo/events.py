"""Argo Events for deployed flows: a Sensor that submits the workflow when an event arrives
(@trigger) or another deployed flow finishes (@trigger_on_finish), and the exit hook by which
every deployed flow announces that it finished.

Events go through one Argo Events event source (a webhook), named by settings:

===================================== =========================================== ===========
``HEADWATER_ARGO_EVENTS_EVENT_SOURCE`` the EventSource the Sensor listens to        ``headwater``
``HEADWATER_ARGO_EVENTS_EVENT``        the event (webhook) name in that source      ``headwater``
``HEADWATER_ARGO_EVENTS_WEBHOOK_URL``  where finished flows post their event        (none: no hook)
``HEADWATER_ARGO_EVENTS_SERVICE_ACCOUNT`` the Sensor's service account (may submit workflows)
===================================== =========================================== ===========

An event is a JSON body ``{"name": ..., "payload": {...}}``; the Sensor matches ``body.name``
and sets parameters from ``body.payload.<field>``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.plugins.argo.workflow_template import Compiler

FINISHED_PREFIX = "headwater.finished."


def finished_event(deployed_name: str) -> str:
    return FINISHED_PREFIX + deployed_name


def sensor(compiler: Compiler) -> dict[str, Any] | None:
    from headwater.plugins.argo.workflow_template import API_VERSION, param_text

    dep = compiler.dep
    t = dep.triggers
    if not t.events and not t.flows:
        return None
    env = compiler.environ
    source = env.get("HEADWATER_ARGO_EVENTS_EVENT_SOURCE") or "headwater"
    event = env.get("HEADWATER_ARGO_EVENTS_EVENT") or "headwater"
    names = [(f"event-{i}", e["name"], e["parameters"]) for i, e in enumerate(t.events)]
    names += [(f"flow-{i}", finished_event(f), {}) for i, f in enumerate(t.flows)]
    dependencies: list[dict[str, Any]] = [
        {
            "name": dep_name,
            "eventSourceName": source,
            "eventName": event,
            "filters": {"data": [{"path": "body.name", "type": "string", "value": [value]}]},
        }
        for dep_name, value, _ in names
    ]
    index = {p.name: i for i, p in enumerate(dep.params)}
    mappings = []
    for dep_name, _, params in names:
        for param, field in params.items():
            if param not in index:
                from headwater.exceptions import InvalidFlow

                raise InvalidFlow(
                    f"@trigger maps the payload field {field!r} to {param!r}, which is not a "
                    f"parameter of {dep.flow}: use one of {', '.join(index) or 'none'}"
                )
            mappings.append(
                {
                    "src": {"dependencyName": dep_name, "dataKey": f"body.payload.{field}"},
                    "dest": f"spec.arguments.parameters.{index[param]}.value",
                }
            )
    workflow = {
        "apiVersion": API_VERSION,
        "kind": "Workflow",
        "metadata": {"generateName": f"{compiler.name}-"},
        "spec": {
            "workflowTemplateRef": {"name": compiler.name},
            "arguments": {
                "parameters": [{"name": p.name, "value": param_text(p.default)} for p in dep.params]
            },
        },
    }
    argo_workflow: dict[str, Any] = {"operation": "submit", "source": {"resource": workflow}}
    if mappings:
        argo_workflow["parameters"] = mappings
    spec: dict[str, Any] = {
        "dependencies": dependencies,
        "triggers": [
            {
                "template": {
                    "name": compiler.name,
                    "conditions": " || ".join(d["name"] for d in dependencies),
                    "argoWorkflow": argo_workflow,
                }
            }
        ],
    }
    account = env.get("HEADWATER_ARGO_EVENTS_SERVICE_ACCOUNT")
    if account:
        spec["template"] = {"serviceAccountName": account}
    return {
        "apiVersion": API_VERSION,
        "kind": "Sensor",
        "metadata": compiler.metadata(),
        "spec": spec,
    }


def exit_hook(compiler: Compiler) -> dict[str, Any] | None:
    """A template run when the workflow ends that posts ``headwater.finished.<name>`` when
    it succeeded (only with HEADWATER_ARGO_EVENTS_WEBHOOK_URL set)."""
    from headwater.plugins.deploy import pod_spec

    url = compiler.environ.get("HEADWATER_ARGO_EVENTS_WEBHOOK_URL")
    if not url:
        return None
    dep = compiler.dep
    start = dep.steps[dep.graph.start]
    code = (
        "import json, os, urllib.request\n"
        "if os.environ['HW_STATUS'] == 'Succeeded':\n"
        "    body = {'name': os.environ['HW_EVENT'], 'payload': {'flow': os.environ['HW_FLOW'], "
        "'run_id': os.environ['HW_RUN_ID']}}\n"
        "    request = urllib.request.Request(os.environ['HW_URL'], "
        "data=json.dumps(body).encode(), headers={'Content-Type': 'application/json'})\n"
        "    urllib.request.urlopen(request, timeout=30).read()\n"
    )
    env = {
        "HW_STATUS": "{{workflow.status}}",
        "HW_EVENT": finished_event(dep.name),
        "HW_FLOW": dep.flow,
        "HW_RUN_ID": "argo-{{workflow.name}}",
        "HW_URL": url,
    }
    return {
        "name": "notify-finished",
        "container": {
            "name": "main",
            "image": pod_spec.image(start, compiler.environ),
            "command": ["python", "-c", code],
            "env": [{"name": k, "value": v} for k, v in env.items()],
            "resources": {"requests": {"cpu": "100m", "memory": "128M"}},
        },
    }
