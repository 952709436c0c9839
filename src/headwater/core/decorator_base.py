"""What step and flow decorators share: named arguments checked against the decorator's
``defaults``, and arguments read from configs (``@retry(times=cfg.retries)``) evaluated once the
configs are read."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from headwater.core.deferred import contains_deferred
from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class Decorator:
    """Base of StepDecorator and FlowDecorator: subclasses set ``name`` and ``defaults``."""

    name = "decorator"
    defaults: Mapping[str, Any] = {}

    def __init__(self, attributes: Mapping[str, Any] | None = None) -> None:
        attrs = dict(self.defaults)
        for key, value in (attributes or {}).items():
            if key not in self.defaults:
                from headwater.core.suggest import did_you_mean

                known = did_you_mean(key, self.defaults) or (
                    f"its arguments: {', '.join(self.defaults) or 'none'}"
                )
                raise InvalidFlow(f"@{self.name} has no argument '{key}' ({known})")
            attrs[key] = value
        self.attributes = attrs
        # The arguments written in the decorator (as opposed to defaults).
        self.user_attributes = frozenset(attributes or ())
        # Arguments that depend on configs wait for them (see _resolve_configs).
        self._deferred_attributes = attrs if contains_deferred(attrs) else None

    def _resolve_configs(self, resolve: Callable[[Any], Any]) -> None:
        """Evaluate the arguments that depend on configs, then check them (_configs_resolved)."""
        written = getattr(self, "_deferred_attributes", None)  # a subclass may skip __init__
        if written is None:
            return
        self.attributes = {k: resolve(v) for k, v in written.items()}
        self._configs_resolved()

    def _configs_resolved(self) -> None:
        """Called once arguments read from configs have their values."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.attributes.items())
        return f"@{self.name}({args})"
