"""headwater: build and manage real-life data-science projects.

Names are loaded lazily on first access so that ``import headwater`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # authoring
    "FlowSpec": "headwater.core.flowspec",
    "step": "headwater.core.step",
    "Parameter": "headwater.core.parameters",
    "JSONType": "headwater.core.parameters",
    "IncludeFile": "headwater.core.parameters",
    "current": "headwater.core.current",
    # step decorators
    "retry": "headwater.plugins.retry",
    "catch": "headwater.plugins.catch",
    "timeout": "headwater.plugins.timeout",
    "environment": "headwater.plugins.environment",
    "resources": "headwater.plugins.resources",
    "card": "headwater.plugins.card",
    "StepDecorator": "headwater.core.decorators",
    # client
    "Metaflow": "headwater.client",
    "Flow": "headwater.client",
    "Run": "headwater.client",
    "Step": "headwater.client",
    "Task": "headwater.client",
    "DataArtifact": "headwater.client",
    "namespace": "headwater.client",
    "get_namespace": "headwater.client",
    "default_namespace": "headwater.client",
    "metadata": "headwater.client",
    "get_metadata": "headwater.client",
    # programmatic runs
    "Runner": "headwater.runner",
    "NBRunner": "headwater.runner",
    "ExecutingRun": "headwater.runner",
    # flow decorators
    "project": "headwater.plugins.project",
    "FlowDecorator": "headwater.core.flow_decorators",
    # errors users catch
    "HeadwaterException": "headwater.exceptions",
    "MetaflowException": "headwater.exceptions",
    "MetaflowNotFound": "headwater.exceptions",
    "MetaflowNamespaceMismatch": "headwater.exceptions",
    "DoNotRetry": "headwater.exceptions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'headwater' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover
    from headwater.client import (
        DataArtifact,
        Flow,
        Metaflow,
        Run,
        Step,
        Task,
        default_namespace,
        get_metadata,
        get_namespace,
        metadata,
        namespace,
    )
    from headwater.core.current import current
    from headwater.core.flowspec import FlowSpec
    from headwater.core.parameters import IncludeFile, JSONType, Parameter
    from headwater.core.step import step
    from headwater.plugins.card import card
    from headwater.plugins.project import project
    from headwater.runner import ExecutingRun, NBRunner, Runner
