"""Strict JSON schemas of Argo resources, made at test time from the Argo models of the
``hera`` package: every object forbids fields its model does not have."""

from __future__ import annotations

import functools


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
    from hera.workflows.models import CronWorkflow, WorkflowTemplate

    model = {"WorkflowTemplate": WorkflowTemplate, "CronWorkflow": CronWorkflow, "Sensor": Sensor}
    schema = _forbid_extra(model[kind].model_json_schema(by_alias=True))
    return jsonschema.Draft202012Validator(schema)


def problems(resource: dict) -> list[str]:
    """What is wrong with a resource, one line each (none when it is valid)."""
    errors = validator(resource["kind"]).iter_errors(resource)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
