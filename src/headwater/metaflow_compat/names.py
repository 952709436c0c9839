"""Which headwater object answers each name of Metaflow's public modules.

The ``metaflow`` package that ``headwater metaflow-compat DIR`` writes is a set of stubs: each
module asks :func:`module_attributes` for a ``__getattr__`` that looks names up here, lazily
(``from metaflow import FlowSpec, step`` loads only those). Keeping the table in headwater means
upgrading headwater upgrades the compatibility package without writing it again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from headwater.record import EMPTY_MAPPING, Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class CompatModule(Record):
    """One Metaflow module: names are looked up in ``target`` unless ``aliases`` maps them
    (to ``"module:attr"``); ``listed`` are its public names (``__all__``), else the target's."""

    target: str
    aliases: Mapping[str, str] = EMPTY_MAPPING
    listed: tuple[str, ...] = ()


# Metaflow's top-level names (metaflow/__init__.py of Metaflow 2.19). Those headwater does not
# provide yet raise an ImportError that says so.
TOP_LEVEL = (
    "FlowSpec",
    "step",
    "Parameter",
    "JSONType",
    "IncludeFile",
    "Config",
    "ConfigValue",
    "config_expr",
    "UserStepDecorator",
    "user_step_decorator",
    "USER_SKIP_STEP",
    "StepMutator",
    "FlowMutator",
    "current",
    "retry",
    "catch",
    "timeout",
    "environment",
    "resources",
    "card",
    "project",
    "schedule",
    "trigger",
    "trigger_on_finish",
    "parallel",
    "secrets",
    "conda",
    "conda_base",
    "pypi",
    "pypi_base",
    "kubernetes",
    "batch",
    "Flow",
    "Run",
    "Step",
    "Task",
    "DataArtifact",
    "Metaflow",
    "namespace",
    "get_namespace",
    "default_namespace",
    "metadata",
    "get_metadata",
    "default_metadata",
    "Runner",
    "NBRunner",
    "Deployer",
    "S3",
    "profile",
)

MODULES: dict[str, CompatModule] = {
    "metaflow": CompatModule(
        "headwater",
        {
            "default_metadata": "headwater.client:default_metadata",
            "__version__": "headwater:__version__",
        },
        TOP_LEVEL,
    ),
    "metaflow.client": CompatModule("headwater.client"),
    "metaflow.cards": CompatModule("headwater.cards"),
    "metaflow.exception": CompatModule(
        "headwater.exceptions",
        {
            "MetaflowException": "headwater.exceptions:HeadwaterException",
            "MetaflowInternalError": "headwater.exceptions:HeadwaterException",
            "MetaflowNotFound": "headwater.exceptions:ObjectNotFound",
            "MetaflowNamespaceMismatch": "headwater.exceptions:NamespaceMismatch",
            "MetaflowInvalidPathspec": "headwater.exceptions:InvalidPathspec",
            "MetaflowTaggingError": "headwater.exceptions:TagError",
            "MetaflowDataMissing": "headwater.exceptions:ArtifactNotFound",
            "CommandException": "headwater.exceptions:CommandLineError",
            "ParameterFieldFailed": "headwater.exceptions:ParameterError",
            "InvalidDecoratorAttribute": "headwater.exceptions:InvalidFlow",
            "MergeArtifactsException": "headwater.exceptions:MergeArtifactsError",
            "MissingInMergeArtifactsException": (
                "headwater.exceptions:MissingInMergeArtifactsError"
            ),
            "UnhandledInMergeArtifactsException": (
                "headwater.exceptions:UnhandledInMergeArtifactsError"
            ),
        },
        (
            "MetaflowException",
            "MetaflowInternalError",
            "MetaflowNotFound",
            "MetaflowNamespaceMismatch",
            "MetaflowInvalidPathspec",
            "MetaflowTaggingError",
            "MetaflowDataMissing",
            "CommandException",
            "ParameterFieldFailed",
            "InvalidDecoratorAttribute",
            "MergeArtifactsException",
            "MissingInMergeArtifactsException",
            "UnhandledInMergeArtifactsException",
            "ExternalCommandFailed",
        ),
    ),
    "metaflow.flowspec": CompatModule("headwater.core.flowspec", listed=("FlowSpec",)),
    "metaflow.parameters": CompatModule(
        "headwater.core.parameters", listed=("Parameter", "JSONType")
    ),
    "metaflow.includefile": CompatModule("headwater.core.parameters", listed=("IncludeFile",)),
    "metaflow.metaflow_current": CompatModule(
        "headwater.core.current", listed=("current", "Current")
    ),
    "metaflow.decorators": CompatModule(
        "headwater.core.decorators",
        {
            "FlowDecorator": "headwater.core.flow_decorators:FlowDecorator",
            "StepDecorator": "headwater.core.decorators:StepDecorator",
        },
        ("FlowDecorator", "StepDecorator"),
    ),
    "metaflow.runner": CompatModule(
        "headwater.runner", listed=("Runner", "NBRunner", "ExecutingRun")
    ),
}


class NotProvided(ImportError):
    """A Metaflow name headwater does not provide (yet)."""


def resolve(module: str, name: str) -> Any:
    """The headwater object for ``<module>.<name>``; NotProvided/AttributeError when none."""
    spec = MODULES[module]
    target = spec.aliases.get(name)
    mod_name, _, attr = (target or f"{spec.target}:{name}").partition(":")
    try:
        return getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError):
        if name in spec.listed or name in spec.aliases:
            import headwater

            raise NotProvided(
                f"{module}.{name} is Metaflow API that headwater {headwater.__version__} does "
                "not provide yet: rewrite that part with headwater's API, or use Metaflow"
            ) from None
        raise AttributeError(f"module {module!r} has no attribute {name!r}") from None


def public_names(module: str) -> list[str]:
    spec = MODULES[module]
    if spec.listed:
        return list(spec.listed)
    try:
        target = importlib.import_module(spec.target)
    except ImportError:
        return list(spec.aliases)
    names = getattr(target, "__all__", None) or [n for n in vars(target) if not n.startswith("_")]
    return sorted(set(names) | set(spec.aliases))


# Exception types that @catch records under Metaflow's names in flows that use Metaflow's API
# (``CaughtException.type``): headwater's exceptions as metaflow.exception names them, and a
# task that died without an exception as Metaflow's catch decorator names that case.
CAUGHT_TYPE_NAMES = {
    "headwater.exceptions.TaskDied": "metaflow.plugins.catch_decorator.FailureHandledByCatch",
    "headwater.exceptions.StepTimedOut": "metaflow.plugins.timeout_decorator.TimeoutException",
}


def _show_metaflow_type_names() -> None:
    from headwater.core.caught import show_type_names

    names = dict(CAUGHT_TYPE_NAMES)
    spec = MODULES["metaflow.exception"]
    for name in spec.listed:
        target = spec.aliases.get(name, f"{spec.target}:{name}").replace(":", ".")
        names.setdefault(target, f"metaflow.exception.{name}")
    show_type_names(names)


def module_attributes(module: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the compatibility module named ``module``."""
    _show_metaflow_type_names()

    def __getattr__(name: str) -> Any:  # noqa: N807 - module __getattr__
        if name == "__all__":
            return [n for n in public_names(module) if _provided(module, n)]
        if name.startswith("__") and name != "__version__":
            raise AttributeError(name)
        return resolve(module, name)

    def __dir__() -> list[str]:  # noqa: N807
        return public_names(module)

    return __getattr__, __dir__


def _provided(module: str, name: str) -> bool:
    try:
        resolve(module, name)
    except (ImportError, AttributeError):
        return False
    return True
