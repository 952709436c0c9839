"""``@trigger`` and ``@trigger_on_finish``: start the deployed flow when something happens.

``@trigger(event="data_ready")`` (or ``events=[...]``) starts a run when an event of that
name arrives; an event may be a dict ``{"name": ..., "parameters": {"param": "field"}}`` to
set parameters from the event's payload (Argo Workflows). ``@trigger_on_finish(flow="Up")``
(or ``flows=[...]``) starts a run when a run of the deployed flow ``Up`` succeeds; within a
@project it is the same project and branch's ``Up``, and ``"project.branch.Up"`` or
``{"name": "Up", "project": ..., "project_branch": ...}`` names another. Locally, ``run``
ignores both.
"""

from __future__ import annotations

from collections.abc import Mapping

from headwater.core.flow_decorators import FlowDecorator, make_flow_decorator
from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def _listed(deco: FlowDecorator, one: str, many: str) -> list[Any]:
    a = deco.attributes
    items = list(a[many] or [])
    if a[one] is not None:
        if items:
            raise InvalidFlow(f"@{deco.name} takes {one}= or {many}=, not both")
        items = [a[one]]
    if not items:
        raise InvalidFlow(f"@{deco.name} needs {one}='...' or {many}=[...]")
    return items


class TriggerDecorator(FlowDecorator):
    """Start the deployed flow when a named event arrives."""

    name = "trigger"
    defaults = {"event": None, "events": [], "options": {}}

    def events(self) -> list[dict[str, Any]]:
        """Each event as ``{"name", "parameters"}`` (parameter -> payload field)."""
        out = []
        for item in _listed(self, "event", "events"):
            if isinstance(item, str) and item:
                out.append({"name": item, "parameters": {}})
            elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                params = item.get("parameters") or {}
                if isinstance(params, (list, tuple)):
                    params = {p: p for p in params}
                if not isinstance(params, Mapping):
                    raise InvalidFlow(
                        "@trigger: an event's parameters are a dict of parameter -> payload field"
                    )
                out.append({"name": item["name"], "parameters": dict(params)})
            else:
                raise InvalidFlow(
                    f"@trigger: {item!r} is not an event: give a name, or "
                    "{'name': ..., 'parameters': {...}}"
                )
        return out

    def run_tags(self, flow_name: str, options: Mapping[str, Any], user: str) -> list[str]:
        self.events()
        return []


class TriggerOnFinishDecorator(FlowDecorator):
    """Start the deployed flow when a run of another deployed flow succeeds."""

    name = "trigger_on_finish"
    defaults = {"flow": None, "flows": [], "options": {}}

    def upstream(self, project: str | None, branch: str | None) -> list[str]:
        """The deployed names of the upstream flows."""
        out = []
        for item in _listed(self, "flow", "flows"):
            if isinstance(item, str) and item:
                if "." in item or project is None or branch is None:
                    out.append(item)
                else:
                    out.append(f"{project}.{branch}.{item}")
            elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                p = item.get("project") or project
                b = item.get("project_branch") or branch
                out.append(f"{p}.{b}.{item['name']}" if p and b else item["name"])
            else:
                raise InvalidFlow(
                    f"@trigger_on_finish: {item!r} is not a flow: give its name, or "
                    "{'name': ..., 'project': ..., 'project_branch': ...}"
                )
        return out

    def run_tags(self, flow_name: str, options: Mapping[str, Any], user: str) -> list[str]:
        self.upstream(None, None)
        return []


trigger = make_flow_decorator(TriggerDecorator)
trigger_on_finish = make_flow_decorator(TriggerOnFinishDecorator)
