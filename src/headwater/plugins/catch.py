"""``@catch``: once retries are exhausted, keep the exception in an artifact and go on."""

from __future__ import annotations

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class CatchDecorator(StepDecorator):
    """Store the final failure in ``self.<var>`` (None on success) and continue the flow."""

    name = "catch"
    defaults = {"var": None, "print_exception": True}

    def init(self) -> None:
        var = self.attributes["var"]
        if var is not None and (not isinstance(var, str) or not var.isidentifier()):
            raise InvalidFlow(f"@catch(var={var!r}): var must be an attribute name, like 'error'")

    def step_init(self, graph: Any, step_name: str) -> None:
        node = graph[step_name]
        kind = node.type.value
        if kind in ("foreach", "split-switch"):
            what = "a foreach" if kind == "foreach" else "a switch"
            raise InvalidFlow(
                f"@catch on step '{step_name}', which starts {what}: a caught failure has no "
                "value to split on; move the work that may fail to a step before it",
                step=step_name,
            )
        if node.num_parallel is not None:
            raise InvalidFlow(f"@catch is not supported on the @parallel step '{step_name}'")

    def catch_var(self) -> str | None:
        return self.attributes["var"] or "_catch_exception"


catch = make_step_decorator(CatchDecorator)
