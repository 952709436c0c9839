"""Plugins by name, loaded late: storage and metadata backends, executors, step and flow
decorators, card types and ``headwater`` subcommands.

Every plugin, built-in or not, is a Python entry point ``name = "module:attribute"`` in one of
the groups below (headwater's own are declared in its pyproject.toml). Nothing is imported
until it is asked for by name. Scanning installed packages for entry points costs tens of
milliseconds (importing importlib.metadata alone is ~60 ms), so headwater's own entry points
are also listed in :data:`BUILTIN` (a test keeps the two equal) and the scan happens only for
a name that is not a built-in, or when every name of a group is wanted.
"""

from __future__ import annotations

import sys

from headwater.exceptions import PluginError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# group -> the entry-point group name in package metadata
GROUPS: dict[str, str] = {
    "storage": "headwater.storage",
    "metadata": "headwater.metadata",
    "executors": "headwater.executors",
    "step_decorators": "headwater.step_decorators",
    "flow_decorators": "headwater.flow_decorators",
    "cards": "headwater.cards",
    "secrets": "headwater.secrets",
    "commands": "headwater.commands",
}

BUILTIN: dict[str, dict[str, str]] = {
    "storage": {
        "local": "headwater.datastore.local_storage:LocalStorage",
        "s3": "headwater.datastore.s3_storage:S3Storage",
    },
    "metadata": {
        "local": "headwater.metadata_store.sqlite:SqliteMetadata",
        "service": "headwater.metadata_store.service_client:ServiceMetadata",
    },
    "executors": {
        "fork": "headwater.runtime.zygote:ForkExecutor",
        "subprocess": "headwater.runtime.subprocess_executor:SubprocessExecutor",
        "ray": "headwater.plugins.ray_cluster.executor:RayExecutor",
        "kubernetes": "headwater.plugins.kubernetes_jobs.executor:KubernetesExecutor",
    },
    "step_decorators": {
        "card": "headwater.plugins.card:CardDecorator",
        "catch": "headwater.plugins.catch:CatchDecorator",
        "environment": "headwater.plugins.environment:EnvironmentDecorator",
        "kubernetes": "headwater.plugins.kubernetes:KubernetesDecorator",
        "ray": "headwater.plugins.ray:RayDecorator",
        "resources": "headwater.plugins.resources:ResourcesDecorator",
        "parallel": "headwater.plugins.parallel:ParallelDecorator",
        "r": "headwater.plugins.r_step:RDecorator",
        "retry": "headwater.plugins.retry:RetryDecorator",
        "secrets": "headwater.plugins.secrets:SecretsDecorator",
        "timeout": "headwater.plugins.timeout:TimeoutDecorator",
    },
    "flow_decorators": {
        "project": "headwater.plugins.project:ProjectDecorator",
        "schedule": "headwater.plugins.schedule:ScheduleDecorator",
        "trigger": "headwater.plugins.events:TriggerDecorator",
        "trigger_on_finish": "headwater.plugins.events:TriggerOnFinishDecorator",
    },
    "cards": {},
    "secrets": {},
    "commands": {
        "ui": "headwater.cli.cmd_ui",
        "metaflow-compat": "headwater.cli.cmd_compat",
        "configure": "headwater.cli.cmd_configure",
        "service": "headwater.cli.cmd_service",
        "bootstrap": "headwater.cli.cmd_bootstrap",
    },
}

_scanned: dict[str, dict[str, str]] = {}  # group -> names found in installed packages


def _entry_points(group: str) -> dict[str, str]:
    """Entry points of ``group`` in every installed package (scanned once per process)."""
    found = _scanned.get(group)
    if found is None:
        from importlib.metadata import entry_points

        found = {ep.name: ep.value for ep in entry_points(group=GROUPS[group])}
        _scanned[group] = found
    return found


def target(group: str, name: str) -> str | None:
    """The ``module:attribute`` (or module) registered as ``name`` in ``group``, or None."""
    if group not in GROUPS:
        raise ValueError(f"unknown plugin group {group!r}")
    builtin = BUILTIN[group].get(name)
    if builtin is not None:
        return builtin
    return _entry_points(group).get(name)


def names(group: str) -> list[str]:
    """Every name registered in ``group``, built-in or installed, sorted."""
    return sorted(set(BUILTIN[group]) | set(_entry_points(group)))


def load(group: str, name: str, what: str | None = None) -> Any:
    """The object registered as ``name`` in ``group`` (a module when no attribute is given).

    Raises :class:`PluginError` with the known names when there is none, and says which
    extra to install when its module needs a package that is missing."""
    spec = target(group, name)
    if spec is None:
        known = ", ".join(names(group)) or "none"
        raise PluginError(f"no {what or group} named {name!r} (known: {known})")
    module_name, _, attr = spec.partition(":")
    try:
        __import__(module_name)  # importlib.import_module would import importlib and warnings
        module = sys.modules[module_name]
    except ImportError as e:
        raise PluginError(
            f"{what or group} {name!r} could not be loaded ({e}): install the package it needs"
        ) from e
    return getattr(module, attr) if attr else module
