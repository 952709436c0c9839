"""Values that depend on configs: ``cfg.a.b`` on a class-level Config, and ``config_expr``.

Decorator arguments and Parameter defaults are evaluated when the flow class is defined, before
any config has a value. Reading a key of a class-level Config (``@retry(times=cfg.retries)``)
or writing ``config_expr("cfg.a + 1")`` therefore gives a deferred value; the command line
resolves the flow's configs at the start of a command and then evaluates every deferred value
in decorators and parameter defaults (:func:`headwater.core.configs.apply_configs`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from headwater.exceptions import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Protocol

    class Resolver(Protocol):
        """What evaluates deferred values: the configs' values."""

        def config_value(self, config: Any, expr: str) -> Any: ...

        def names(self) -> Mapping[str, Any]: ...


def is_deferred(value: Any) -> bool:
    return getattr(type(value), "_hw_deferred", False) is True


def contains_deferred(value: Any) -> bool:
    """True when ``value`` is deferred or a dict, list or tuple holding one."""
    if is_deferred(value):
        return True
    if isinstance(value, dict):
        return any(contains_deferred(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_deferred(v) for v in value)
    return False


def resolve_value(value: Any, resolver: Resolver) -> Any:
    """``value`` with every deferred value in it evaluated."""
    if is_deferred(value):
        return value._hw_evaluate(resolver)
    if isinstance(value, dict) and contains_deferred(value):
        return {k: resolve_value(v, resolver) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and contains_deferred(value):
        return type(value)(resolve_value(v, resolver) for v in value)
    return value


class DeferredValue:
    """Base of values computed once the flow's configs are known."""

    _hw_deferred = True
    __slots__ = ()

    def _hw_evaluate(self, resolver: Resolver) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __bool__(self) -> bool:
        raise ConfigError(
            f"{self!r} has no value until the configs are read: use it as a decorator argument "
            "or a Parameter default, or read self.<config> inside a step"
        )


class ConfigPath(DeferredValue):
    """``cfg.a.b`` / ``cfg["a"]`` on a class-level Config: a key path into its value."""

    __slots__ = ("_hw_config", "_hw_path")
    _hw_config: Any
    _hw_path: tuple[Any, ...]

    def __init__(self, config: Any, path: tuple[Any, ...]) -> None:
        object.__setattr__(self, "_hw_config", config)
        object.__setattr__(self, "_hw_path", path)

    def __getattr__(self, name: str) -> ConfigPath:
        if name.startswith("_"):
            raise AttributeError(name)
        return ConfigPath(self._hw_config, (*self._hw_path, name))

    def __getitem__(self, key: Any) -> ConfigPath:
        return ConfigPath(self._hw_config, (*self._hw_path, key))

    def __setattr__(self, name: str, value: Any) -> None:
        raise ConfigError(f"cannot assign {self!r}.{name}: configs are read-only")

    def __repr__(self) -> str:
        text = self._hw_config._hw_label
        for key in self._hw_path:
            text += f".{key}" if isinstance(key, str) and key.isidentifier() else f"[{key!r}]"
        return text

    def _hw_evaluate(self, resolver: Resolver) -> Any:
        config = self._hw_config
        value = resolver.config_value(config, repr(self))
        name = config._hw_name
        done = config._hw_label
        for key in self._hw_path:
            if value is None:
                raise ConfigError(
                    f"{self!r}: config '{name}' has no value: give it a default, or pass "
                    f"--config {name} PATH"
                )
            if _has_key(value, key):
                value = value[key]
            else:
                keys = ", ".join(repr(k) for k in value) if isinstance(value, Mapping) else ""
                has = f" (its keys: {keys or 'none'})" if isinstance(value, Mapping) else ""
                raise ConfigError(
                    f"{self!r}: {done} has no key {key!r}{has}: fix the name, or add the key "
                    f"to config '{name}'"
                )
            done += f".{key}" if isinstance(key, str) and key.isidentifier() else f"[{key!r}]"
        return value


def _has_key(value: Any, key: Any) -> bool:
    if isinstance(value, Mapping):
        return key in value
    return (
        isinstance(value, (tuple, list))  # lists: in plain configs
        and isinstance(key, int)
        and -len(value) <= key < len(value)
    )


class _Accessible(DeferredValue):
    """A deferred value whose attributes and items are deferred too:
    ``config_expr("cfg").project.name`` reads ``.project.name`` of the value once known."""

    __slots__ = ()

    def __getattr__(self, name: str) -> DeferredAccess:
        if name.startswith("_"):
            raise AttributeError(name)
        return DeferredAccess(self, (("attr", name),))

    def __getitem__(self, key: Any) -> DeferredAccess:
        return DeferredAccess(self, (("item", key),))


class DeferredAccess(_Accessible):
    """Attribute and item reads on a deferred value, done once it has its value."""

    __slots__ = ("_hw_base", "_hw_steps")
    _hw_base: DeferredValue
    _hw_steps: tuple[tuple[str, Any], ...]

    def __init__(self, base: DeferredValue, steps: tuple[tuple[str, Any], ...]) -> None:
        object.__setattr__(self, "_hw_base", base)
        object.__setattr__(self, "_hw_steps", steps)

    def __getattr__(self, name: str) -> DeferredAccess:
        if name.startswith("_"):
            raise AttributeError(name)
        return DeferredAccess(self._hw_base, (*self._hw_steps, ("attr", name)))

    def __getitem__(self, key: Any) -> DeferredAccess:
        return DeferredAccess(self._hw_base, (*self._hw_steps, ("item", key)))

    def __repr__(self) -> str:
        text = repr(self._hw_base)
        for kind, key in self._hw_steps:
            text += f".{key}" if kind == "attr" else f"[{key!r}]"
        return text

    def _hw_evaluate(self, resolver: Resolver) -> Any:
        value = self._hw_base._hw_evaluate(resolver)
        done = repr(self._hw_base)
        for kind, key in self._hw_steps:
            try:
                if kind == "item" or isinstance(value, Mapping) and key in value:
                    value = value[key]
                else:
                    value = getattr(value, key)
            except (KeyError, IndexError, TypeError, AttributeError):
                what = f"attribute {key!r}" if kind == "attr" else f"item {key!r}"
                raise ConfigError(
                    f"{self!r}: {done} (a {type(value).__name__}) has no {what}: fix the name, "
                    "or add it to the config"
                ) from None
            done += f".{key}" if kind == "attr" else f"[{key!r}]"
        return value


class ConfigExpr(_Accessible):
    """``config_expr("...")``: a Python expression over the flow's configs."""

    __slots__ = ("_hw_expr", "_hw_globals")
    _hw_expr: str
    _hw_globals: Mapping[str, Any]

    def __init__(self, expr: str, module_globals: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_hw_expr", expr)
        object.__setattr__(self, "_hw_globals", module_globals)

    def __repr__(self) -> str:
        return f"config_expr({self._hw_expr!r})"

    def _hw_evaluate(self, resolver: Resolver) -> Any:
        scope = dict(self._hw_globals)
        scope.update(resolver.names())  # globals, so comprehensions see the configs too
        try:
            code = compile(self._hw_expr, "<config_expr>", "eval")
            return eval(code, scope)  # noqa: S307 - the flow's own code
        except ConfigError:
            raise
        except Exception as ex:  # noqa: BLE001 - any failure of user code is reported as one line
            detail = str(ex).strip().splitlines()
            msg = f"{type(ex).__name__}: {detail[0]}" if detail else type(ex).__name__
            raise ConfigError(
                f"{self!r} failed ({msg}): the expression sees the flow's configs by name "
                "and the names of the flow's module"
            ) from None


def config_expr(expr: str) -> ConfigExpr:
    """A value computed from the flow's configs when they are read, as in
    ``@resources(cpu=config_expr("cfg.cpu * 2"))`` or ``@project(name=config_expr("cfg.project"))``.

    The expression sees each config by its attribute name (and by its config name) plus the
    globals of the module that calls ``config_expr``.
    """
    if not isinstance(expr, str) or not expr.strip():
        raise ConfigError('config_expr takes an expression as a string, as in config_expr("cfg.a")')
    frame = sys._getframe(1)
    return ConfigExpr(expr.strip(), frame.f_globals)
