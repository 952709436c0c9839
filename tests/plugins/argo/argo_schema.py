"""Strict JSON schemas of Argo resources, made at test time from the Argo models of the
``hera`` package: every object forbids fields its model does not have.

Two corrections to hera's models, both from how Kubernetes and Argo Events define the types:
every resource has ``apiVersion`` and ``kind`` (Kubernetes' TypeMeta, missing from hera's
Sensor), and an Argo Events trigger's ``source.resource`` (``K8SResource``) is a whole
resource written inline (its Go type marshals the raw object), which :func:`problems` checks
against its own model (a Workflow) instead.
"""

from __future__ import annotations

import functools

TYPE_META = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}}


def _forbid_extra(node):
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _forbid_extra(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_extra(value)
    return node


@functools.cache
def validator(kind: str):
    import jsonschema
    from hera.events.models import Sensor
    from hera.workflows.models import CronWorkflow, Workflow, WorkflowTemplate

    model = {
        "WorkflowTemplate": WorkflowTemplate,
        "CronWorkflow": CronWorkflow,
        "Workflow": Workflow,
        "Sensor": Sensor,
    }
    schema = model[kind].model_json_schema(by_alias=True)
    for name, definition in schema.get("$defs", {}).items():
        if name == "K8SResource":
            definition.clear()
            definition["type"] = "object"  # a raw resource: checked on its own
    for key, value in TYPE_META.items():
        schema["properties"].setdefault(key, value)
    return jsonschema.Draft202012Validator(_forbid_extra(schema))


@functools.cache
def _model_validator(name: str):
    import jsonschema
    from hera.workflows import models

    schema = getattr(models, name).model_json_schema(by_alias=True)
    return jsonschema.Draft202012Validator(_forbid_extra(schema))


def strict_model_problems(name: str, value: dict) -> list[str]:
    """What is wrong with ``value`` as the Kubernetes type ``name`` (Container, Toleration,
    ObjectMeta...), as hera models it, unknown fields refused."""
    errors = _model_validator(name).iter_errors(value)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def problems(resource: dict) -> list[str]:
    """What is wrong with a resource, one line each (none when it is valid)."""
    errors = validator(resource["kind"]).iter_errors(resource)
    out = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
    if resource["kind"] == "Sensor":
        for trigger in resource["spec"].get("triggers", []):
            embedded = trigger["template"]["argoWorkflow"]["source"]["resource"]
            out += [f"embedded {p}" for p in problems(embedded)]
    return out
