"""A flow's @schedule, @trigger and @trigger_on_finish, read for a deployment."""

from __future__ import annotations

from collections.abc import Sequence

from headwater.core.flow_decorators import flow_decorators
from headwater.plugins.deploy.deployment import Triggers


def flow_triggers(flow_cls: type, target: str, run_tags: Sequence[str]) -> Triggers:
    """When the deployed flow runs by itself (raises InvalidFlow for a bad decorator)."""
    project = branch = None
    for tag in run_tags:
        if tag.startswith("project:"):
            project = tag.split(":", 1)[1]
        elif tag.startswith("project_branch:"):
            branch = tag.split(":", 1)[1]
    cron = timezone = None
    events: list = []
    flows: list[str] = []
    for deco in flow_decorators(flow_cls):
        if deco.name == "schedule":
            cron, timezone = deco.cron(), deco.timezone()  # type: ignore[attr-defined]
        elif deco.name == "trigger":
            events = deco.events()  # type: ignore[attr-defined]
        elif deco.name == "trigger_on_finish":
            flows = deco.upstream(project, branch)  # type: ignore[attr-defined]
    return Triggers(cron=cron, timezone=timezone, events=tuple(events), flows=tuple(flows))
