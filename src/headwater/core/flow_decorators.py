"""The base of flow decorators (``@project``, ``@schedule``...) and how they attach to a flow.

A flow decorator is a class decorator. It registers an instance on the flow class (in
``FlowSpec._flow_decorators``, by name), may add top-level command-line options (``--branch``),
gives each new run extra system tags, and sets ``current`` attributes inside tasks. Tasks derive
those attributes from the run's tags, so nothing but the tags travels from the launch to a task.
Bad arguments are reported when a run starts (a one-line error), not at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from headwater.core.decorator_base import Decorator
from headwater.exceptions import InvalidFlow
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

_REGISTRY: dict[str, type[FlowDecorator]] = {}


class FlowOption(Record):
    """A top-level command-line option a flow decorator adds (``--<name>``, before the command)."""

    name: str
    help: str
    is_flag: bool = False
    default: Any = None
    metavar: str = "VALUE"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


class FlowDecorator(Decorator):
    """Base class: subclass, set ``name``, ``defaults`` and ``options``, override what applies."""

    name = "flow_decorator"
    options: tuple[FlowOption, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name != FlowDecorator.name and not cls.name.startswith("_"):
            _REGISTRY[cls.name] = cls

    # --- at launch ------------------------------------------------------------------------------
    def run_tags(self, flow_name: str, options: Mapping[str, Any], user: str) -> list[str]:
        """Check the decorator's arguments and options for a new run; return the system tags
        the run gets. ``options`` maps option dests to their values (defaults when not given).
        Raise a HeadwaterException with a one-line message when something is wrong."""
        return []

    # --- inside a task ----------------------------------------------------------------------------
    def current_extras(self, flow_name: str, tags: frozenset[str]) -> Mapping[str, Any]:
        """``current`` attributes of a task of a run that carries ``tags``."""
        return {}


def registered_flow_decorators() -> dict[str, type[FlowDecorator]]:
    """Every flow decorator class, by name: imported ones and registered plugins (imported
    now; only error messages and docs need them all)."""
    from headwater import registry

    for name in registry.names("flow_decorators"):
        if name not in _REGISTRY:
            registry.load("flow_decorators", name, "flow decorator")
    return dict(_REGISTRY)


def flow_decorators(flow_cls: type) -> list[FlowDecorator]:
    """The flow decorators on ``flow_cls``, in the order they were applied."""
    return list(getattr(flow_cls, "_flow_decorators", {}).values())


def attach_flow_decorator(flow_cls: Any, deco: FlowDecorator) -> Any:
    from headwater.core.flowspec import FlowSpec

    if not (isinstance(flow_cls, type) and issubclass(flow_cls, FlowSpec)):
        raise InvalidFlow(f"@{deco.name} decorates a FlowSpec subclass, not {flow_cls!r}")
    own = dict(flow_cls.__dict__.get("_flow_decorators", {}))
    if deco.name in own:
        raise InvalidFlow(f"flow {flow_cls.__name__} has @{deco.name} twice: keep one")
    # A fresh dict on this class: never mutate the one inherited from FlowSpec or a base flow.
    merged = dict(getattr(flow_cls, "_flow_decorators", {}))
    merged[deco.name] = deco
    flow_cls._flow_decorators = merged
    return flow_cls


def make_flow_decorator(cls: type[FlowDecorator]) -> Callable[..., Any]:
    """Turn a FlowDecorator class into ``@name`` / ``@name(arg=...)`` usable above a flow class."""

    def decorator(flow_cls: Any = None, **kwargs: Any) -> Any:
        if flow_cls is not None:
            if kwargs:
                raise InvalidFlow(
                    f"@{cls.name} takes keyword arguments only, as in @{cls.name}(...)"
                )
            return attach_flow_decorator(flow_cls, cls())
        try:
            deco: FlowDecorator = cls(kwargs)
        except InvalidFlow as ex:
            # Raised at class-definition time this would be a traceback; report it at launch.
            deco = _Misused(cls, str(ex))

        def apply(target: Any) -> Any:
            return attach_flow_decorator(target, deco)

        return apply

    decorator.__name__ = cls.name
    decorator.__doc__ = cls.__doc__
    decorator.decorator_class = cls  # type: ignore[attr-defined]
    return decorator


class _Misused(FlowDecorator):
    """Stands in for a flow decorator given bad arguments; starting a run reports the error."""

    name = "_misused"

    def __init__(self, deco_cls: type[FlowDecorator], message: str) -> None:
        super().__init__()
        self.name = deco_cls.name
        self.options = deco_cls.options  # still accepted, so the real error is the one shown
        self.message = message

    def run_tags(self, flow_name: str, options: Mapping[str, Any], user: str) -> list[str]:
        raise InvalidFlow(f"flow {flow_name}: {self.message}")


def flow_run_tags(flow_cls: type, options: Mapping[str, Any], user: str) -> list[str]:
    """System tags every flow decorator of ``flow_cls`` gives a new run (checks them first)."""
    tags: list[str] = []
    for deco in flow_decorators(flow_cls):
        values = {o.dest: options.get(o.dest, o.default) for o in deco.options}
        tags.extend(deco.run_tags(flow_cls.__name__, values, user))
    return tags


def flow_current_extras(flow_cls: type, tags: frozenset[str]) -> dict[str, Any]:
    """``current`` attributes the flow decorators of ``flow_cls`` set in a task of the run."""
    extras: dict[str, Any] = {}
    for deco in flow_decorators(flow_cls):
        extras.update(deco.current_extras(flow_cls.__name__, tags))
    return extras
