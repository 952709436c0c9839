"""The base of step decorators, and how they attach to steps (above ``@step`` or ``--with``).

A step decorator is an object in ``func.decorators``. The runtime reads a few plain facts from
it (how many retries, how long to wait, the timeout, the catch variable, environment
variables); third-party decorators use the same base class and hooks as the built-ins.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from headwater.core.decorator_base import Decorator
from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

_REGISTRY: dict[str, type[StepDecorator]] = {}


class StepDecorator(Decorator):
    """Base class: subclass, set ``name`` and ``defaults``, override what applies."""

    name = "step_decorator"
    allow_multiple = False

    def __init__(
        self, attributes: Mapping[str, Any] | None = None, statically_defined: bool = True
    ):
        super().__init__(attributes)
        self.statically_defined = statically_defined
        if self._deferred_attributes is None:  # else init() runs once configs are read
            self.init()

    def _configs_resolved(self) -> None:
        self.init()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name != StepDecorator.name and not cls.name.startswith("_"):
            _REGISTRY[cls.name] = cls

    def init(self) -> None:
        """Validate and normalise ``self.attributes``; raise InvalidFlow on bad values."""

    # --- checks before a run -------------------------------------------------------------------
    def step_init(self, graph: Any, step_name: str) -> None:
        """Check the decorator fits its step (e.g. @catch is not allowed on a foreach)."""

    # --- facts the runtime reads -----------------------------------------------------------------
    def retries(self) -> int:
        """Extra attempts after a failed one."""
        return 0

    def retry_wait_seconds(self) -> float:
        return 0.0

    def timeout_seconds(self) -> float | None:
        return None

    def catch_var(self) -> str | None:
        """The artifact that receives the exception when all attempts failed (None: no catch)."""
        return None

    def executor_name(self) -> str | None:
        """The executor (registered name) that runs this step's tasks; None: the run's."""
        return None

    def environment(self) -> Mapping[str, str]:
        """Environment variables to set in the task before the step runs."""
        return {}

    # --- hooks inside the task ----------------------------------------------------------------
    def task_pre_step(self, flow: Any, step_name: str, retry_count: int) -> None:
        """Called in the task just before the step function runs."""

    def task_post_step(self, flow: Any, step_name: str) -> None:
        """Called in the task after the step function returned."""

    def task_finished(
        self, flow: Any, step_name: str, ok: bool, datastore: Any, attempt: Any
    ) -> None:
        """Called in the task after its artifacts and index are saved (``ok`` False when the
        step failed). ``datastore`` is the task's datastore (headwater.datastore.store) and
        ``attempt`` its AttemptPath; a decorator may store objects of its own through it.
        An exception raised here is reported on the task's stderr and does not fail it."""


def registered(name: str) -> type[StepDecorator] | None:
    """The step decorator class named ``name``: one imported already, else the plugin
    registered under that name (headwater.registry), imported now; None when there is none."""
    cls = _REGISTRY.get(name)
    if cls is not None:
        return cls
    from headwater import registry

    if registry.target("step_decorators", name) is None:
        return None
    found = registry.load("step_decorators", name, "step decorator")
    return _REGISTRY.get(name) or (found if isinstance(found, type) else None)


def known_names() -> list[str]:
    """Every step decorator name: imported ones and registered plugins."""
    from headwater import registry

    return sorted(set(_REGISTRY) | set(registry.names("step_decorators")))


def all_step_decorators() -> dict[str, type[StepDecorator]]:
    """Every registered step decorator class, by name (each plugin is imported)."""
    for name in known_names():
        registered(name)
    return {k: v for k, v in _REGISTRY.items() if not k.startswith("_")}


def attach(func: Any, deco: StepDecorator) -> Any:
    """Attach a decorator instance to a step function.

    Above ``@step`` is the documented place; below it works too (the list is kept by @step).
    """
    if not callable(func):
        raise InvalidFlow(f"@{deco.name} decorates a step method, not {func!r}")
    if not hasattr(func, "decorators"):
        func.decorators = []
    existing = [d for d in func.decorators if d.name == deco.name]
    if existing and not deco.allow_multiple:
        raise InvalidFlow(f"step '{func.__name__}' has @{deco.name} twice: keep one")
    func.decorators.append(deco)
    return func


def make_step_decorator(cls: type[StepDecorator]) -> Callable[..., Any]:
    """Turn a StepDecorator class into ``@name`` / ``@name(arg=...)`` usable above ``@step``."""

    def decorator(func: Any = None, **kwargs: Any) -> Any:
        if func is not None and callable(func) and not kwargs:
            return attach(func, cls())
        if func is not None:
            return _Misused(
                cls.name, f"@{cls.name} takes keyword arguments only, as in @{cls.name}(...)"
            )
        try:
            deco: StepDecorator = cls(kwargs)
        except InvalidFlow as ex:
            # Raised at class-definition time this would be a traceback; report it from check.
            deco = _Misused(cls.name, str(ex))

        def apply(f: Any) -> Any:
            return attach(f, deco)

        return apply

    decorator.__name__ = cls.name
    decorator.__doc__ = cls.__doc__
    decorator.decorator_class = cls  # type: ignore[attr-defined]
    return decorator


class _Misused(StepDecorator):
    """Stands in for a decorator given bad arguments; `check` and `run` report the error."""

    name = "_misused"
    allow_multiple = True

    def __init__(self, deco_name: str, message: str) -> None:
        super().__init__()
        self.deco_name = deco_name
        self.message = message

    def __call__(self, func: Any) -> Any:
        return attach(func, self)

    def step_init(self, graph: Any, step_name: str) -> None:
        raise InvalidFlow(f"step '{step_name}': {self.message}", step=step_name)


def is_custom_decospec(spec: str) -> bool:
    """True when a ``--with`` spec names a custom decorator or mutator by its import path
    (``mymodule.timed:quiet=1``): those attach to the flow class (headwater.core.mutable),
    not to the list this module parses."""
    return "." in spec.partition(":")[0]


def parse_decospec(spec: str) -> StepDecorator:
    """``--with retry:times=2,minutes_between_retries=0`` -> a decorator instance."""
    name, _, args = spec.partition(":")
    cls = registered(name.strip())
    if cls is None:
        names = known_names()
        known = ", ".join(names) or "none"
        from headwater.core.suggest import did_you_mean

        hint = did_you_mean(name, names) or f"known: {known}"
        raise InvalidFlow(f"--with {spec!r}: no step decorator named '{name}' ({hint})")
    attrs: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in args.split(","))):
        key, eq, raw = part.partition("=")
        if not eq:
            raise InvalidFlow(f"--with {spec!r}: write arguments as name=value, not {part!r}")
        attrs[key.strip()] = _literal(raw.strip())
    return cls(attrs, statically_defined=False)


def _literal(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def step_decorators(func: Any, extra: list[StepDecorator] | None = None) -> list[StepDecorator]:
    """The decorators in force for one step: its own, plus ``--with`` ones it does not have."""
    own = list(getattr(func, "decorators", []))
    names = {d.name for d in own}
    for deco in extra or ():
        if deco.name not in names:
            own.append(deco)
    return own
