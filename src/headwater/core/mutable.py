"""What mutators change, and when: ``MutableFlow``, ``MutableStep`` and :func:`apply_mutators`.

A command reads the flow's configs, evaluates what depends on them, and then applies the
flow's mutators (:mod:`headwater.core.user_decorators`): first every ``pre_mutate`` (flow
mutators, then step mutators), then every ``mutate``. Mutators change the flow class in place:
decorators of steps, flow decorators, parameters. The decorators and parameters as written are
kept aside the first time, and every later application (another command in the same process)
starts again from them, so applying twice gives the same flow.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence

from headwater.core.user_decorators import (
    FlowMutator,
    StepMutator,
    UserStepDecorator,
    _UserDecorator,
    flow_mutators,
)
from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

Spec = tuple[str, str, list, dict]  # (short name, full name, args, kwargs) of a decorator

IGNORE = 1
ERROR = 2
OVERRIDE = 3
_STEP_FIELDS = ("decorators", "wrappers", "config_decorators")


def _full_name(obj: Any) -> str:
    if isinstance(obj, _UserDecorator):
        return obj.decorator_name
    cls = type(obj)
    return f"{cls.__module__}.{cls.__name__}"


def _spec_of(obj: Any) -> Spec:
    if isinstance(obj, _UserDecorator):
        args, kwargs = obj.get_args_kwargs()
        return obj.name, obj.decorator_name, args, kwargs
    return obj.name, _full_name(obj), [], dict(obj.attributes)


def _matches(obj: Any, query: str) -> bool:
    """``query`` names ``obj``: its full name when the query has a dot, else its short name."""
    if "." in query:
        return _full_name(obj) == query
    return obj.name == query


def _parse_spec(text: str) -> tuple[str, dict[str, Any]]:
    """``name:key=value,...`` -> (name, kwargs); values read as JSON when they parse."""
    import json

    name, _, rest = text.partition(":")
    kwargs: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, raw = part.partition("=")
        if not eq:
            raise InvalidFlow(f"decorator spec {text!r}: write arguments as name=value")
        try:
            kwargs[key.strip()] = json.loads(raw.strip())
        except ValueError:
            kwargs[key.strip()] = raw.strip()
    return name.strip(), kwargs


def import_object(path: str) -> Any:
    """The object ``module.attr`` names (a custom decorator given by its import path)."""
    import importlib

    module_name, _, attr = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as ex:
        raise InvalidFlow(f"cannot load the decorator {path!r} ({ex}): check the name") from None


# --- one step ------------------------------------------------------------------------------------


class MutableStep:
    """A step as a mutator sees it: its decorators, which it may add to and remove from."""

    IGNORE = IGNORE
    ERROR = ERROR
    OVERRIDE = OVERRIDE

    def __init__(self, flow_cls: type, name: str, pre_mutate: bool, static: bool) -> None:
        self._flow_cls = flow_cls
        self._func = getattr(flow_cls, name)
        self._pre_mutate = pre_mutate
        self._static = static
        self.name = name

    @property
    def flow(self) -> MutableFlow:
        return MutableFlow(self._flow_cls, self._pre_mutate, self._static)

    def _all(self) -> Iterator[Any]:
        for field in _STEP_FIELDS:
            yield from getattr(self._func, field, None) or ()

    @property
    def decorator_specs(self) -> Iterator[Spec]:
        """``(name, full name, args, kwargs)`` of each decorator of the step."""
        for deco in self._all():
            yield _spec_of(deco)

    def has_decorator(self, name: str) -> bool:
        return any(_matches(d, name) for d in self._all())

    def get_decorator_specs(self, name: str) -> list[Spec]:
        return [_spec_of(d) for d in self._all() if _matches(d, name)]

    def add_decorator(
        self,
        deco_type: Any,
        deco_args: Sequence[Any] | None = None,
        deco_kwargs: Mapping[str, Any] | None = None,
        duplicates: int = IGNORE,
    ) -> Any:
        """Add a decorator: a step decorator (``retry``, its class, or ``"retry:times=2"``),
        a custom decorator, or a step mutator. ``duplicates`` says what happens when the step
        has one of that name already: IGNORE keeps the existing one, OVERRIDE replaces it,
        ERROR raises (when the mutator is written in the flow's code). Returns the decorator
        added, or None."""
        args, kwargs = list(deco_args or ()), dict(deco_kwargs or {})
        if isinstance(deco_type, str):
            name, parsed = _parse_spec(deco_type)
            if parsed and kwargs:
                raise InvalidFlow(
                    f"add_decorator({deco_type!r}): give the arguments in the spec or in "
                    "deco_kwargs, not both"
                )
            kwargs = parsed or kwargs
            deco_type = import_object(name) if "." in name else _step_decorator_class(name)
        deco_type = getattr(deco_type, "decorator_class", deco_type)
        if isinstance(deco_type, type) and issubclass(deco_type, (UserStepDecorator, StepMutator)):
            deco: Any = deco_type(*args, **kwargs)
            deco.statically_defined = False
            deco.external_init()
            field = "wrappers" if isinstance(deco, UserStepDecorator) else "config_decorators"
            return self._add(deco, field, deco.decorator_name, False, duplicates)
        from headwater.core.decorators import StepDecorator

        if not (isinstance(deco_type, type) and issubclass(deco_type, StepDecorator)):
            raise InvalidFlow(
                f"add_decorator({deco_type!r}) on step '{self.name}': give a step decorator, "
                "a custom decorator, a step mutator or a 'name:key=value' string"
            )
        if args:
            raise InvalidFlow(f"@{deco_type.name} takes keyword arguments only")
        step_deco = deco_type(kwargs, statically_defined=False)
        return self._add(
            step_deco, "decorators", step_deco.name, step_deco.allow_multiple, duplicates
        )

    def _add(self, deco: Any, field: str, key: str, multiple: bool, duplicates: int) -> Any:
        items = getattr(self._func, field, None)
        if items is None:
            items = []
            setattr(self._func, field, items)
        same = [d for d in items if (_full_name(d) if "." in key else d.name) == key]
        if same and not multiple:
            if duplicates == IGNORE:
                return None
            if duplicates == ERROR:
                if self._static:
                    raise InvalidFlow(
                        f"step '{self.name}' already has @{deco.name}: a mutator adds it again "
                        "with duplicates=ERROR",
                        step=self.name,
                    )
                return None
            if duplicates != OVERRIDE:
                raise InvalidFlow(
                    f"add_decorator: duplicates={duplicates!r} is not one of "
                    "IGNORE, ERROR, OVERRIDE"
                )
            items[:] = [d for d in items if d not in same]
        if field == "wrappers":
            items.insert(0, deco)  # added by a mutator: outside the ones written in the code
        else:
            items.append(deco)
        return deco

    def remove_decorator(
        self,
        deco_name: str,
        deco_args: Sequence[Any] | None = None,
        deco_kwargs: Mapping[str, Any] | None = None,
    ) -> bool:
        """Remove the step's decorators named ``deco_name`` (only those with these arguments,
        when given). True when one was removed."""
        removed = False
        for field in _STEP_FIELDS:
            items = getattr(self._func, field, None)
            if not items:
                continue
            keep = []
            for deco in items:
                hit = _matches(deco, deco_name)
                if hit and (deco_args is not None or deco_kwargs is not None):
                    _, _, args, kwargs = _spec_of(deco)
                    hit = args == list(deco_args or ()) and kwargs == dict(deco_kwargs or {})
                if hit:
                    removed = True
                else:
                    keep.append(deco)
            items[:] = keep
        return removed

    def __repr__(self) -> str:
        return f"<MutableStep {self.name}>"


def _step_decorator_class(name: str) -> Any:
    from headwater.core.decorators import _REGISTRY, registered

    cls = registered(name)
    if cls is None:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise InvalidFlow(f"no step decorator named '{name}' (known: {known})")
    return cls


# --- the flow ------------------------------------------------------------------------------------


class MutableFlow:
    """The flow as a mutator sees it: steps, configs, parameters and flow decorators."""

    IGNORE = IGNORE
    ERROR = ERROR
    OVERRIDE = OVERRIDE

    def __init__(
        self,
        flow_cls: type,
        pre_mutate: bool,
        static: bool,
        configs: Mapping[str, Any] | None = None,
        pending: list[FlowMutator] | None = None,
    ) -> None:
        self._flow_cls = flow_cls
        self._pre_mutate = pre_mutate
        self._static = static
        self._configs = configs if configs is not None else _configs_of(flow_cls)
        self._pending = pending  # flow mutators still to run; one added here joins them

    # --- reading ----------------------------------------------------------------------------
    @property
    def configs(self) -> Iterator[tuple[str, Any]]:
        """``(config name, value)`` of each config of the flow."""
        if "headwater.core.configs" not in sys.modules:
            return  # no flow has a Config: the module was never imported
        from headwater.core.configs import flow_configs

        for attr, config in flow_configs(self._flow_cls).items():
            yield config._hw_name, self._configs.get(attr)

    @property
    def parameters(self) -> Iterator[tuple[str, Any]]:
        """``(attribute, Parameter)`` of each parameter of the flow (configs aside)."""
        from headwater.core.parameters import flow_parameters

        yield from flow_parameters(self._flow_cls).items()

    @property
    def steps(self) -> Iterator[tuple[str, MutableStep]]:
        """``(name, MutableStep)`` of each step of the flow."""
        for name in step_names(self._flow_cls):
            yield name, MutableStep(self._flow_cls, name, self._pre_mutate, self._static)

    def _flow_decorators(self) -> list[Any]:
        from headwater.core.flow_decorators import flow_decorators

        return flow_decorators(self._flow_cls)

    @property
    def decorator_specs(self) -> Iterator[Spec]:
        """``(name, full name, args, kwargs)`` of each flow decorator and flow mutator."""
        for deco in self._flow_decorators():
            yield _spec_of(deco)
        for mutator in flow_mutators(self._flow_cls):
            yield _spec_of(mutator)

    def has_decorator(self, name: str) -> bool:
        return bool(self.get_decorator_specs(name))

    def get_decorator_specs(self, name: str) -> list[Spec]:
        objs = [*self._flow_decorators(), *flow_mutators(self._flow_cls)]
        return [_spec_of(d) for d in objs if _matches(d, name)]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in step_names(self._flow_cls):
            return MutableStep(self._flow_cls, name, self._pre_mutate, self._static)
        for config_name, value in self.configs:
            if config_name == name:
                return value
        if name in self._configs:
            return self._configs[name]
        for attr, param in self.parameters:
            if name in (attr, param.name):
                return param
        raise AttributeError(
            f"{self._flow_cls.__name__} has no step, config or parameter named {name!r}"
        )

    # --- changing (pre_mutate only) ------------------------------------------------------------
    def _only_in_pre_mutate(self, what: str) -> None:
        if not self._pre_mutate:
            raise InvalidFlow(
                f"{what} is only allowed in a mutator's pre_mutate method, not in mutate"
            )

    def add_parameter(self, name: str, value: Any, overwrite: bool = False) -> None:
        """Add a Parameter (or IncludeFile) to the flow as the class attribute ``name``."""
        from headwater.core.parameters import Parameter

        self._only_in_pre_mutate(f"add_parameter({name!r})")
        if not isinstance(value, Parameter):
            raise InvalidFlow(
                f"add_parameter({name!r}): give a Parameter or IncludeFile, not "
                f"{type(value).__name__}"
            )
        cls = self._flow_cls
        if hasattr(cls, name) and not overwrite:
            raise InvalidFlow(
                f"flow {cls.__name__} already has a member '{name}': pass overwrite=True to "
                "replace it"
            )
        _remember(cls, name)
        type.__setattr__(cls, name, value)
        value.__set_name__(cls, name)

    def remove_parameter(self, parameter_name: str) -> bool:
        """Remove the parameter named ``parameter_name``; True when there was one."""
        self._only_in_pre_mutate(f"remove_parameter({parameter_name!r})")
        for attr, param in list(self.parameters):
            if param.name == parameter_name or attr == parameter_name:
                for klass in self._flow_cls.__mro__:
                    if klass.__dict__.get(attr) is param:
                        _remember(klass, attr)
                        type.__delattr__(klass, attr)
                        break
                return True
        return False

    def add_decorator(
        self,
        deco_type: Any,
        deco_args: Sequence[Any] | None = None,
        deco_kwargs: Mapping[str, Any] | None = None,
        duplicates: int = IGNORE,
    ) -> Any:
        """Add a flow decorator (``project``, its class, ``"project:name=x"``) or a flow
        mutator; ``duplicates`` as in MutableStep.add_decorator. Returns what was added."""
        from headwater.core.flow_decorators import FlowDecorator, registered_flow_decorators

        self._only_in_pre_mutate("adding a flow decorator")
        args, kwargs = list(deco_args or ()), dict(deco_kwargs or {})
        if isinstance(deco_type, str):
            name, parsed = _parse_spec(deco_type)
            kwargs = parsed or kwargs
            if "." in name:
                deco_type = import_object(name)
            else:
                deco_type = registered_flow_decorators().get(name)
                if deco_type is None:
                    known = ", ".join(sorted(registered_flow_decorators())) or "none"
                    raise InvalidFlow(f"no flow decorator named '{name}' (known: {known})")
        deco_type = getattr(deco_type, "decorator_class", deco_type)
        if isinstance(deco_type, type) and issubclass(deco_type, FlowMutator):
            mutator = deco_type(*args, **kwargs)
            mutator.statically_defined = False
            mutator.external_init()
            existing = [
                m
                for m in flow_mutators(self._flow_cls)
                if m.decorator_name == mutator.decorator_name
            ]
            if existing and not self._duplicate_ok(mutator.name, duplicates):
                return None
            own = list(self._flow_cls.__dict__.get("_hw_flow_mutators", ()))
            if existing and duplicates == OVERRIDE:
                own = [m for m in own if m not in existing]
            _remember(self._flow_cls, "_hw_flow_mutators")
            type.__setattr__(self._flow_cls, "_hw_flow_mutators", [*own, mutator])
            if self._pending is not None:
                self._pending.append(mutator)
            return mutator
        if not (isinstance(deco_type, type) and issubclass(deco_type, FlowDecorator)):
            raise InvalidFlow(
                f"add_decorator({deco_type!r}): give a flow decorator, a flow mutator or a "
                "'name:key=value' string"
            )
        if args:
            raise InvalidFlow(f"@{deco_type.name} takes keyword arguments only")
        deco = deco_type(kwargs)
        current = dict(getattr(self._flow_cls, "_flow_decorators", {}))
        if deco.name in current and not self._duplicate_ok(deco.name, duplicates):
            return None
        current[deco.name] = deco
        _remember(self._flow_cls, "_flow_decorators")
        type.__setattr__(self._flow_cls, "_flow_decorators", current)
        return deco

    def _duplicate_ok(self, name: str, duplicates: int) -> bool:
        """Whether to add a flow-level decorator the flow has already."""
        if duplicates == OVERRIDE:
            return True
        if duplicates == ERROR and self._static:
            raise InvalidFlow(
                f"flow {self._flow_cls.__name__} already has @{name}: a mutator adds it again "
                "with duplicates=ERROR"
            )
        return False

    def remove_decorator(
        self,
        deco_name: str,
        deco_args: Sequence[Any] | None = None,
        deco_kwargs: Mapping[str, Any] | None = None,
    ) -> bool:
        """Remove the flow decorators named ``deco_name`` (with these arguments, when given).
        Flow mutators cannot be removed."""
        self._only_in_pre_mutate(f"removing the flow decorator {deco_name!r}")
        if any(_matches(m, deco_name) for m in flow_mutators(self._flow_cls)):
            raise InvalidFlow(f"@{deco_name} is a flow mutator: mutators cannot be removed")
        current = dict(getattr(self._flow_cls, "_flow_decorators", {}))
        removed = False
        for key, deco in list(current.items()):
            if not _matches(deco, deco_name):
                continue
            if deco_args is not None or deco_kwargs is not None:
                _, _, args, kwargs = _spec_of(deco)
                if args != list(deco_args or ()) or kwargs != dict(deco_kwargs or {}):
                    continue
            del current[key]
            removed = True
        if removed:
            _remember(self._flow_cls, "_flow_decorators")
            type.__setattr__(self._flow_cls, "_flow_decorators", current)
        return removed

    def __repr__(self) -> str:
        return f"<MutableFlow {self._flow_cls.__name__}>"


def _configs_of(flow_cls: type) -> dict[str, Any]:
    return dict(getattr(flow_cls, "_hw_config_values", None) or {})


# --- keeping what was written ------------------------------------------------------------------

_MISSING = object()


def _remember(klass: type, attr: str) -> None:
    """Keep the class's own value of ``attr`` as written, once, to restore it later."""
    saved = klass.__dict__.get("_hw_written_attrs")
    if saved is None:
        saved = {}
        type.__setattr__(klass, "_hw_written_attrs", saved)
    if attr not in saved:
        saved[attr] = klass.__dict__.get(attr, _MISSING)


def step_names(flow_cls: type) -> list[str]:
    from headwater.core.step import is_step

    return [n for n in dir(flow_cls) if not n.startswith("__") and is_step(getattr(flow_cls, n))]


def restore_written(flow_cls: type) -> None:
    """Undo what mutators and ``--with`` custom decorators did to ``flow_cls``."""
    for klass in flow_cls.__mro__:
        saved = klass.__dict__.get("_hw_written_attrs")
        if not saved:
            continue
        for attr, value in saved.items():
            if value is _MISSING:
                if attr in klass.__dict__:
                    type.__delattr__(klass, attr)
            else:
                type.__setattr__(klass, attr, value)
        saved.clear()
    for name in step_names(flow_cls):
        func = getattr(flow_cls, name)
        written = func.__dict__.get("_hw_written")
        if written is None:
            func._hw_written = tuple(list(getattr(func, f, None) or ()) for f in _STEP_FIELDS)
        else:
            for field, items in zip(_STEP_FIELDS, written, strict=True):
                setattr(func, field, list(items))


# --- applying ------------------------------------------------------------------------------------


def apply_mutators(
    flow_cls: type,
    configs: Mapping[str, Any],
    resolve: Callable[[Any], Any] | None,
    with_specs: Sequence[str] = (),
) -> None:
    """Initialise the flow's custom decorators and mutators with their arguments (``resolve``
    evaluates those read from configs), attach ``--with`` custom decorators (``with_specs``,
    as ``module.name:key=value``) to every step, then run every pre_mutate and every mutate.
    Call :func:`restore_written` first."""
    type.__setattr__(flow_cls, "_hw_config_values", dict(configs))
    names = step_names(flow_cls)
    for mutator in flow_mutators(flow_cls):
        _init(mutator, resolve, f"flow {flow_cls.__name__}")
    for name in names:
        func = getattr(flow_cls, name)
        for field in ("wrappers", "config_decorators"):
            for deco in getattr(func, field, None) or ():
                _init(deco, resolve, f"step '{name}'")
    for spec in with_specs:
        for name in names:
            MutableStep(flow_cls, name, pre_mutate=True, static=False).add_decorator(spec)
    pending = list(flow_mutators(flow_cls))
    for phase in ("pre_mutate", "mutate"):
        queue = list(pending)
        i = 0
        while i < len(queue):
            mutator = queue[i]
            view = MutableFlow(
                flow_cls, phase == "pre_mutate", mutator.statically_defined, configs, queue
            )
            getattr(mutator, phase)(view)
            i += 1
        pending = queue
        for name in step_names(flow_cls):
            func = getattr(flow_cls, name)
            done: list[Any] = []
            while True:
                todo = [m for m in getattr(func, "config_decorators", None) or () if m not in done]
                if not todo:
                    break
                for mutator in todo:
                    done.append(mutator)
                    step = MutableStep(
                        flow_cls, name, phase == "pre_mutate", mutator.statically_defined
                    )
                    getattr(mutator, phase)(step)


def _init(deco: Any, resolve: Callable[[Any], Any] | None, where: str) -> None:
    try:
        deco.external_init(resolve)
    except InvalidFlow as ex:
        raise InvalidFlow(f"{where}: {ex}") from None
