"""What every production compiler needs to know about a flow, gathered once.

The command (``airflow create``, ``argo-workflows create``) collects the flow's graph,
decorators, parameters and settings into a :class:`Deployment`; each compiler turns it into
its orchestrator's format. Nothing here knows Airflow or Argo.

The deployed name follows Metaflow: the flow's name, or for a flow with ``@project``
``<project>.<branch>.<Flow>`` where the branch comes from ``--branch``/``--production``, so
production and a user's branch are deployed side by side and never overwrite each other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from headwater.exceptions import CommandLineError
from headwater.plugins.deploy.units import Unit, compile_units
from headwater.record import EMPTY_MAPPING, Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.core.graph import FlowGraph
    from headwater.settings import Settings

TIMEOUT_GRACE_S = 30  # the task stops itself at @timeout; the orchestrator a little later


class StepPlan(Record):
    """One step as a compiled task sees it."""

    name: str
    is_join: bool
    retries: int
    retry_delay_s: float
    timeout_s: float | None
    kubernetes: Mapping[str, Any] | None = None  # @kubernetes arguments, when it has one
    resources: Mapping[str, Any] = EMPTY_MAPPING  # @resources arguments
    environment: Mapping[str, str] = EMPTY_MAPPING  # @environment vars


class ParamPlan(Record):
    """A flow parameter as the orchestrator's run configuration holds it."""

    name: str
    default: Any  # JSON-safe; None: computed when the run starts
    help: str | None
    schema_type: str | None  # JSON-schema type: string, integer, number, boolean
    is_flag: bool = False
    separator: str | None = None
    json: bool = False

    def to_json(self) -> dict[str, Any]:
        return dict(self._asdict())


class Triggers(Record):
    """When the deployed flow runs by itself."""

    cron: str | None = None  # @schedule, as a 5-field cron expression
    timezone: str | None = None
    events: tuple[Mapping[str, Any], ...] = ()  # @trigger: {"name", "parameters"}
    flows: tuple[str, ...] = ()  # @trigger_on_finish: deployed names of upstream flows


class Deployment(Record):
    flow: str
    name: str  # the deployed name
    flow_file: str  # absolute path of the flow file where the compiler ran
    python: str  # the interpreter that runs headwater's commands
    cwd: str
    top_args: tuple[str, ...]  # top-level options every command repeats (--branch, --with...)
    env: Mapping[str, str]  # settings for the tasks (never a secret)
    secret_env: tuple[str, ...]  # settings the tasks need but the compiled file never holds
    user: str  # who deployed: the runs' user
    tags: tuple[str, ...]  # user tags of every run
    production_token: str
    max_workers: int
    graph: FlowGraph
    units: tuple[Unit, ...]
    steps: Mapping[str, StepPlan]
    params: tuple[ParamPlan, ...]
    triggers: Triggers
    description: str = ""
    project: str | None = None
    branch: str | None = None


def deployed_name(
    flow: str, project_tags: Sequence[str], given: str | None, allowed: str = r"[A-Za-z0-9_.-]"
) -> str:
    """The name of the deployment: ``--name``, else ``project.branch.Flow`` or the flow's."""
    import re

    project = _tag(project_tags, "project:")
    branch = _tag(project_tags, "project_branch:")
    if given:
        if project is not None:
            raise CommandLineError(
                "--name cannot be used with @project: the project, --branch and --production "
                "decide the deployed name"
            )
        bad = re.sub(allowed, "", given)
        if bad:
            raise CommandLineError(
                f"--name {given!r} has the character {bad[0]!r}: use letters, digits, '.', "
                "'-' and '_'"
            )
        return given
    if project is not None and branch is not None:
        return f"{project}.{branch}.{flow}"
    return flow


def _tag(tags: Sequence[str], prefix: str) -> str | None:
    for tag in tags:
        if tag.startswith(prefix):
            return tag[len(prefix) :]
    return None


def param_plans(flow_cls: type) -> tuple[ParamPlan, ...]:
    from headwater.core.parameters import JSONType, flow_parameters

    out = []
    for param in flow_parameters(flow_cls).values():
        default = param.default
        if callable(default) or not _json_safe(default):
            default = None
        schema = {str: "string", int: "integer", float: "number", bool: "boolean"}
        out.append(
            ParamPlan(
                name=param.name,
                default=default,
                help=param.help,
                schema_type=None if param.separator else schema.get(param.type),
                is_flag=bool(param.is_flag),
                separator=param.separator,
                json=param.type is JSONType,
            )
        )
    return tuple(out)


def _json_safe(value: Any) -> bool:
    import json

    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def step_plans(
    graph: FlowGraph, decorators: Mapping[str, Sequence[Any]], policies: Mapping[str, Any]
) -> dict[str, StepPlan]:
    """Each step's retries, timeout and resources, from its decorators."""
    out = {}
    for name, node in graph.nodes.items():
        policy = policies[name]
        by_name = {d.name: d for d in decorators.get(name, ())}
        env: dict[str, str] = {}
        for deco in decorators.get(name, ()):
            env.update(deco.environment())
        k8s = by_name.get("kubernetes")
        res = by_name.get("resources")
        out[name] = StepPlan(
            name=name,
            is_join=node.is_join,
            retries=int(policy.retries),
            retry_delay_s=float(policy.retry_wait_s),
            timeout_s=policy.timeout_s,
            kubernetes=dict(k8s.attributes) if k8s is not None else None,
            resources=dict(res.attributes) if res is not None else EMPTY_MAPPING,
            environment=env,
        )
    return out


def task_settings(settings: Settings, local_root: str | None, user: str) -> tuple[dict, tuple]:
    """(environment for the tasks, names of secret settings left out of it)."""
    from headwater.settings import SECRET_FIELDS, VARIABLES

    env = {}
    secrets = []
    for field, value in settings._asdict().items():
        if value is None:
            continue
        if field in SECRET_FIELDS:
            secrets.append(VARIABLES[field])
            continue
        env[VARIABLES[field]] = str(value)
    if local_root is not None:
        env["HEADWATER_ROOT"] = local_root
    env["HEADWATER_USER"] = user
    return env, tuple(secrets)


def build_deployment(
    *,
    flow_cls: type,
    graph: FlowGraph,
    decorators: Mapping[str, Sequence[Any]],
    policies: Mapping[str, Any],
    run_tags: Sequence[str],
    settings: Settings,
    local_root: str | None,
    user: str,
    top_args: Sequence[str],
    given_name: str | None,
    name_chars: str,
    python: str | None,
    tags: Sequence[str],
    production_token: str,
    max_workers: int,
    triggers: Triggers,
) -> Deployment:
    import sys

    module = sys.modules.get(flow_cls.__module__)
    flow_file = os.path.abspath(getattr(module, "__file__", None) or sys.argv[0])
    env, secrets = task_settings(settings, local_root, user)
    if max_workers < 1:
        raise CommandLineError("--max-workers must be at least 1")
    return Deployment(
        flow=flow_cls.__name__,
        name=deployed_name(flow_cls.__name__, run_tags, given_name, name_chars),
        flow_file=flow_file,
        python=python or sys.executable,
        cwd=os.path.dirname(flow_file),
        top_args=tuple(top_args),
        env=env,
        secret_env=secrets,
        user=user,
        tags=tuple(tags),
        production_token=production_token,
        max_workers=max_workers,
        graph=graph,
        units=tuple(compile_units(graph)),
        steps=step_plans(graph, decorators, policies),
        params=param_plans(flow_cls),
        triggers=triggers,
        description=graph.doc,
        project=_tag(run_tags, "project:"),
        branch=_tag(run_tags, "project_branch:"),
    )
