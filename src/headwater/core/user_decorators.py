"""Custom step decorators and mutators, as in Metaflow 2.19: ``UserStepDecorator``,
``@user_step_decorator``, ``StepMutator`` and ``FlowMutator``.

A *user step decorator* wraps the step function inside the task: code before the step, code
after it (or on its failure), and it may skip the step or run another function instead::

    @user_step_decorator
    def timed(step_name, flow, inputs=None, attributes=None):
        start = time.time()
        yield                      # the step runs here; `yield {}` skips it,
        flow.seconds = time.time() - start   # `yield func` runs func(flow) instead

A *mutator* runs once when a command reads the flow (after its configs are read, before the
graph and decorators are used) and changes the flow through :mod:`headwater.core.mutable`:
adds or removes decorators and parameters. Both are written above ``@step`` (a StepMutator)
or above the class (a FlowMutator), with or without arguments; their ``init(*args,
**kwargs)`` receives the arguments once config values are known.

Objects here are attached to step functions in ``func.wrappers`` (user step decorators, the
outermost first) and ``func.config_decorators`` (step mutators), and to flow classes in
``_hw_flow_mutators`` (each class its own, bases included when applied).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# ``yield USER_SKIP_STEP`` in a user step decorator skips the step (same as ``yield {}``).
USER_SKIP_STEP: Mapping[str, Any] = {}


def _is_step_function(obj: Any) -> bool:
    return callable(obj) and getattr(obj, "is_step", False) is True


def _is_flow_class(obj: Any) -> bool:
    from headwater.core.flowspec import FlowSpec

    return isinstance(obj, type) and issubclass(obj, FlowSpec)


class _UserDecoratorMeta(type):
    """``@Deco`` (no arguments) above ``@step`` or a flow class attaches a fresh instance and
    gives the function or class back; ``Deco(...)`` makes an instance to apply later."""

    if TYPE_CHECKING:  # what the classes made by this metaclass define (_UserDecorator)
        _hw_kind: str
        decorator_name: str

        def _hw_targets(cls, obj: Any) -> bool: ...

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and cls._hw_targets(args[0]):
            return super().__call__()._hw_apply(args[0])
        return super().__call__(*args, **kwargs)

    def __repr__(cls) -> str:
        return f"<{cls._hw_kind} {cls.decorator_name}>"


class _UserDecorator(metaclass=_UserDecoratorMeta):
    """What user step decorators and both kinds of mutators share: arguments kept as written
    and given to ``init`` once configs are known, and how the object is named."""

    _hw_kind = "decorator"
    _hw_takes_args = True  # positional arguments allowed (mutators; not user step decorators)
    decorator_name: str = ""  # "module.Name", set for every subclass
    statically_defined = True  # False when added by a mutator or --with

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("decorator_name"):
            cls.decorator_name = f"{cls.__module__}.{cls.__name__}"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and not self._hw_takes_args:
            raise InvalidFlow(
                f"@{self.name} takes keyword arguments only, as in @{self.name}(name=value)"
            )
        self._args = list(args)
        self._kwargs = dict(kwargs)

    @classmethod
    def _hw_targets(cls, obj: Any) -> bool:
        return _is_step_function(obj)

    @property
    def name(self) -> str:
        """The short name: the function's or class's own name."""
        return self.decorator_name.rsplit(".", 1)[-1]

    def __call__(self, target: Any) -> Any:
        if not self._hw_targets(target):
            where = (
                "a FlowSpec subclass (above `class`)"
                if self._hw_kind == "flow mutator"
                else "a step (above @step)"
            )
            raise InvalidFlow(f"@{self.name} decorates {where}, not {target!r}")
        return self._hw_apply(target)

    def _hw_apply(self, target: Any) -> Any:  # pragma: no cover - each kind overrides
        raise NotImplementedError

    # --- arguments ------------------------------------------------------------------------------
    def init(self, *args: Any, **kwargs: Any) -> None:
        """Override to take arguments (instead of ``__init__``); called once configs are read.
        Without an override, arguments are refused."""
        if args or kwargs:
            raise InvalidFlow(
                f"@{self.name} was given arguments but defines no init(self, *args, **kwargs) "
                "to take them"
            )

    def external_init(self, resolve: Callable[[Any], Any] | None = None) -> None:
        """Evaluate arguments read from configs (with ``resolve``) and call ``init``."""
        args, kwargs = self._args, self._kwargs
        if resolve is not None:
            args = [resolve(a) for a in args]
            kwargs = {k: resolve(v) for k, v in kwargs.items()}
        self._hw_resolved = (args, kwargs)
        self.init(*args, **kwargs)

    def get_args_kwargs(self) -> tuple[list[Any], dict[str, Any]]:
        """The arguments as given (evaluated once configs are read)."""
        args, kwargs = getattr(self, "_hw_resolved", (self._args, self._kwargs))
        return list(args), dict(kwargs)

    def __repr__(self) -> str:
        args, kwargs = self.get_args_kwargs()
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"@{self.name}({', '.join(parts)})"


def _step_list(func: Any, field: str) -> list[Any]:
    if not _is_step_function(func):
        raise InvalidFlow(f"a custom decorator decorates a @step method, not {func!r}")
    items = func.__dict__.get(field)
    if items is None:
        items = []
        setattr(func, field, items)
    return items


class UserStepDecorator(_UserDecorator):
    """Base class of a custom step decorator that wraps the step inside its task.

    Override ``pre_step`` (before the step; return a function to run instead of it, or set
    ``self.skip_step``) and ``post_step`` (after it, with the exception it raised, if any).
    """

    _hw_kind = "user step decorator"
    _hw_takes_args = False

    def _hw_apply(self, func: Any) -> Any:
        _step_list(func, "wrappers").insert(0, self)  # applied bottom-up: outermost first
        return func

    def pre_step(self, step_name: str, flow: Any, inputs: Any = None) -> Any:
        """Called before the step (before inner decorators). Return None to run what this
        decorator wraps, or a function ``f(flow)`` (``f(flow, inputs)`` in a join) to run
        instead; set ``self.skip_step`` to True (or to ``self.next`` arguments) to skip it."""
        return None

    def post_step(self, step_name: str, flow: Any, exception: BaseException | None = None) -> Any:
        """Called after what this decorator wraps, with the exception it raised (or None).
        Return None (the step succeeded), an exception to raise, or ``(exception,
        next_arguments)`` where ``next_arguments`` (a dict, ``{}`` for the step's usual
        ``self.next``) makes the task call ``self.next`` itself."""
        if exception is not None:
            return exception, None
        return None, None

    @property
    def skip_step(self) -> bool | Mapping[str, Any]:
        """False (run the step), True (skip it), or a dict of ``self.next`` arguments to
        skip it and go on with those."""
        return self.__dict__.get("_skip_step", False)

    @skip_step.setter
    def skip_step(self, value: bool | Mapping[str, Any]) -> None:
        self.__dict__["_skip_step"] = value


def user_step_decorator(func: Any = None, **options: Any) -> Any:
    """Make a custom step decorator of a generator function ``f(step_name, flow, inputs)`` or
    ``f(step_name, flow, inputs, attributes)`` (``attributes``: the decorator's keyword
    arguments). Code before its one ``yield`` runs before the step, code after it after the
    step; ``yield {}`` skips the step, ``yield other`` runs ``other(flow)`` instead, and an
    exception of the step is raised at the ``yield`` (catch it to let the task succeed)."""
    if func is None:
        return lambda f: user_step_decorator(f, **options)
    import inspect

    if not inspect.isgeneratorfunction(func):
        raise InvalidFlow(
            f"@user_step_decorator decorates a generator function (one that yields once), "
            f"not {getattr(func, '__name__', func)!r}"
        )
    n_args = len(inspect.signature(func).parameters)
    if n_args not in (3, 4):
        raise InvalidFlow(
            f"@user_step_decorator function {func.__name__}() takes (step_name, flow, inputs) "
            "or (step_name, flow, inputs, attributes)"
        )
    return type(
        func.__name__,
        (_GeneratorDecorator,),
        {
            "__module__": func.__module__,
            "__doc__": func.__doc__,
            "__qualname__": func.__qualname__,
            "decorator_name": f"{func.__module__}.{func.__name__}",
            "_hw_function": staticmethod(func),
            "_hw_with_attributes": n_args == 4,
        },
    )


class _GeneratorDecorator(UserStepDecorator):
    """A user step decorator made by @user_step_decorator from a generator function."""

    _hw_function: Callable[..., Any]
    _hw_with_attributes = False

    def init(self, **kwargs: Any) -> None:
        if kwargs and not self._hw_with_attributes:
            raise InvalidFlow(
                f"@{self.name} was given arguments but its function takes no attributes: "
                "add a fourth parameter, as in (step_name, flow, inputs, attributes)"
            )
        self.attributes = dict(kwargs)

    def pre_step(self, step_name: str, flow: Any, inputs: Any = None) -> Any:
        attributes = getattr(self, "attributes", {})
        args = (step_name, flow, inputs) + ((attributes,) if self._hw_with_attributes else ())
        gen = self._hw_function(*args)
        self.__dict__["_hw_generator"] = gen
        try:
            yielded = next(gen)
        except StopIteration:
            self.skip_step = True  # returned without yielding: the step does not run
            self.__dict__["_hw_generator"] = None
            return None
        if isinstance(yielded, Mapping):
            self.skip_step = dict(yielded) if yielded else True
            return None
        return yielded

    def post_step(self, step_name: str, flow: Any, exception: BaseException | None = None) -> Any:
        gen = self.__dict__.pop("_hw_generator", None)
        if gen is None:
            return exception
        try:
            if exception is not None:
                gen.throw(exception)
            else:
                next(gen)
        except StopIteration as stop:
            return stop.value  # None: the step (or the skip) stands as it is
        except Exception as ex:  # noqa: BLE001 - the step's error, re-raised, or a new one
            return ex
        gen.close()
        return InvalidFlow(f"@{self.name} yields more than once: yield exactly once"), None


class StepMutator(_UserDecorator):
    """Base class of a step mutator: ``pre_mutate(mutable_step)`` and ``mutate(mutable_step)``
    add or remove decorators of its step when a command reads the flow (see MutableStep)."""

    _hw_kind = "step mutator"

    def _hw_apply(self, func: Any) -> Any:
        _step_list(func, "config_decorators").insert(0, self)
        return func

    def pre_mutate(self, mutable_step: Any) -> None:
        """Called first, right after the configs are read."""

    def mutate(self, mutable_step: Any) -> None:
        """Called after every pre_mutate, before the graph and decorators are used."""


class FlowMutator(_UserDecorator):
    """Base class of a flow mutator, written above the flow class: ``pre_mutate(mutable_flow)``
    may add or remove parameters and flow decorators, both it and ``mutate(mutable_flow)``
    may change the steps' decorators (see MutableFlow)."""

    _hw_kind = "flow mutator"

    @classmethod
    def _hw_targets(cls, obj: Any) -> bool:
        return _is_flow_class(obj)

    def _hw_apply(self, flow_cls: Any) -> Any:
        own = list(flow_cls.__dict__.get("_hw_flow_mutators", ()))
        own.insert(0, self)  # class decorators apply bottom-up too: the top one runs first
        type.__setattr__(flow_cls, "_hw_flow_mutators", own)
        return flow_cls

    def pre_mutate(self, mutable_flow: Any) -> None:
        """Called first, right after the configs are read; the only place to add or remove
        parameters and flow decorators."""

    def mutate(self, mutable_flow: Any) -> None:
        """Called after every pre_mutate; may change the steps' decorators."""


def flow_mutators(flow_cls: type) -> list[FlowMutator]:
    """The flow mutators of ``flow_cls`` and its bases, base classes' first."""
    out: list[FlowMutator] = []
    for klass in reversed(flow_cls.__mro__):
        out.extend(klass.__dict__.get("_hw_flow_mutators", ()))
    return out
