"""headwater: build and manage real-life data-science projects.

Names are loaded lazily on first access so that ``import headwater`` stays fast.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # authoring
    "FlowSpec": "headwater.core.flowspec",
    "step": "headwater.core.step",
    "Parameter": "headwater.core.parameters",
    "JSONType": "headwater.core.parameters",
    "IncludeFile": "headwater.core.parameters",
    "Config": "headwater.core.configs",
    "ConfigValue": "headwater.core.config_value",
    "config_expr": "headwater.core.deferred",
    "current": "headwater.core.current",
    # step decorators
    "retry": "headwater.plugins.retry",
    "catch": "headwater.plugins.catch",
    "timeout": "headwater.plugins.timeout",
    "environment": "headwater.plugins.environment",
    "resources": "headwater.plugins.resources",
    "card": "headwater.plugins.card",
    "parallel": "headwater.plugins.parallel",
    "secrets": "headwater.plugins.secrets",
    "kubernetes": "headwater.plugins.kubernetes",
    "r": "headwater.plugins.r_step",
    "ray": "headwater.plugins.ray",
    "StepDecorator": "headwater.core.decorators",
    # custom decorators and mutators
    "UserStepDecorator": "headwater.core.user_decorators",
    "user_step_decorator": "headwater.core.user_decorators",
    "USER_SKIP_STEP": "headwater.core.user_decorators",
    "StepMutator": "headwater.core.user_decorators",
    "FlowMutator": "headwater.core.user_decorators",
    "MutableStep": "headwater.core.mutable",
    "MutableFlow": "headwater.core.mutable",
    # client
    "Metaflow": "headwater.client.flow",
    "Flow": "headwater.client.flow",
    "Run": "headwater.client.run",
    "Step": "headwater.client.step",
    "Task": "headwater.client.task",
    "DataArtifact": "headwater.client.artifacts",
    "namespace": "headwater.client.namespaces",
    "get_namespace": "headwater.client.namespaces",
    "default_namespace": "headwater.client.namespaces",
    "metadata": "headwater.client.provider",
    "get_metadata": "headwater.client.provider",
    # programmatic runs
    "Runner": "headwater.runner",
    "NBRunner": "headwater.runner",
    "ExecutingRun": "headwater.runner",
    "Deployer": "headwater.runner",
    "DeployedFlow": "headwater.runner",
    "TriggeredRun": "headwater.runner",
    # flow decorators
    "project": "headwater.plugins.project",
    "schedule": "headwater.plugins.schedule",
    "trigger": "headwater.plugins.events",
    "trigger_on_finish": "headwater.plugins.events",
    "FlowDecorator": "headwater.core.flow_decorators",
    # errors users catch
    "HeadwaterException": "headwater.exceptions",
    "MetaflowException": "headwater.exceptions",
    "MetaflowNotFound": "headwater.exceptions",
    "MetaflowNamespaceMismatch": "headwater.exceptions",
    "DoNotRetry": "headwater.exceptions",
}

__all__ = sorted(_EXPORTS)


def _lazy_exports(
    package: str, namespace: dict[str, Any], exports: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose names in ``exports`` (name -> module
    defining it) are imported on first access, then kept in the package's ``namespace``.
    headwater.client and headwater.cards use it too."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        __import__(module)  # importlib.import_module would import importlib and warnings
        value = getattr(sys.modules[module], name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__


__getattr__, __dir__ = _lazy_exports(__name__, globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from typing import Any

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
    from headwater.core.config_value import ConfigValue
    from headwater.core.configs import Config
    from headwater.core.current import current
    from headwater.core.deferred import config_expr
    from headwater.core.flowspec import FlowSpec
    from headwater.core.mutable import MutableFlow, MutableStep
    from headwater.core.parameters import IncludeFile, JSONType, Parameter
    from headwater.core.step import step
    from headwater.core.user_decorators import (
        USER_SKIP_STEP,
        FlowMutator,
        StepMutator,
        UserStepDecorator,
        user_step_decorator,
    )
    from headwater.plugins.card import card
    from headwater.plugins.events import trigger, trigger_on_finish
    from headwater.plugins.kubernetes import kubernetes
    from headwater.plugins.parallel import parallel
    from headwater.plugins.project import project
    from headwater.plugins.r_step import r
    from headwater.plugins.ray import ray
    from headwater.plugins.schedule import schedule
    from headwater.plugins.secrets import secrets
    from headwater.runner import (
        DeployedFlow,
        Deployer,
        ExecutingRun,
        NBRunner,
        Runner,
        TriggeredRun,
    )
