"""``Config``: an immutable, structured value of a flow, known before the graph runs.

A Config is a class attribute of a flow, like a Parameter, but its value is read at the start
of a command (``run``, ``resume``, ``show``, ``check``), before decorators and parameters are
used, so decorator arguments and Parameter defaults can depend on it::

    class TrainFlow(FlowSpec):
        cfg = Config("cfg", default="settings.json")
        alpha = Parameter("alpha", default=cfg.alpha)

        @retry(times=cfg.retries)
        @step
        def start(self):
            print(self.cfg.model.name, self.cfg["model"]["name"])

Where a value comes from, first that applies: ``--config-value NAME JSON``; ``--config NAME
PATH``; the ``default`` file when it exists; ``default_value``. Text is parsed as JSON unless
``parser`` (a callable, or a ``"module.function"`` string) is given; the result must be a dict,
which steps read as a read-only :class:`ConfigValue`. With ``plain=True`` (as in Metaflow) the
value may be anything picklable and steps get it as it is: a list, a str, a plain dict (changes
a step makes to it are not saved). The value is saved with the run like a parameter; ``resume``
keeps the origin run's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from headwater.core.config_value import ConfigValue
from headwater.core.deferred import ConfigPath, contains_deferred, resolve_value
from headwater.core.parameters import RunValue
from headwater.exceptions import ConfigError, InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class Config(RunValue):
    """A flow's configuration: ``Config("cfg", default="cfg.json")`` as a class attribute.

    Attribute and item access on the class-level object (``cfg.a``, ``cfg["a"]``) give deferred
    values for decorator arguments and Parameter defaults; inside a step ``self.cfg`` is the
    value itself, a read-only :class:`ConfigValue`. Every field of the object is kept under a
    ``_hw_`` name so that any key of the config reads through.
    """

    _hw_is_config = True  # how modules that do not import this one recognise a Config
    _hw_kind = "config"

    def __init__(
        self,
        name: str,
        default: str | Callable[[Any], str] | None = None,
        default_value: str | Mapping[str, Any] | Callable[[Any], Any] | None = None,
        help: str | None = None,  # noqa: A002 - Metaflow's keyword
        required: bool | None = None,
        parser: str | Callable[[str], Any] | None = None,
        show_default: bool = True,
        plain: bool = False,
        **unknown: Any,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigError("a Config needs a name: Config('cfg', default='cfg.json')")
        if unknown:
            raise ConfigError(
                f"Config '{name}' has no argument '{next(iter(unknown))}' (its arguments: "
                "default, default_value, help, required, parser, show_default, plain)"
            )
        if parser is not None and not (isinstance(parser, str) or callable(parser)):
            raise ConfigError(
                f"Config '{name}': parser must be a function or a 'module.function' string, "
                f"not {parser!r}"
            )
        self._hw_name = name
        self._hw_default = default
        self._hw_default_value = default_value
        self._hw_help = help
        self._hw_required = bool(required)
        self._hw_parser = parser
        self._hw_show_default = bool(show_default)
        self._hw_plain = bool(plain)
        self._hw_attr: str | None = None  # set by __set_name__

    @property
    def _hw_label(self) -> str:
        """How the config is written in the flow's code (its attribute name)."""
        return self._hw_attr or self._hw_name

    # --- descriptor: inside a task, the run's value (see RunValue) ----------------------------
    def __set_name__(self, owner: type, attr: str) -> None:
        self._hw_attr = attr

    # --- deferred access on the class-level object -------------------------------------------
    def __getattr__(self, name: str) -> ConfigPath:
        if name.startswith("_"):
            raise AttributeError(name)
        return ConfigPath(self, (name,))

    def __getitem__(self, key: Any) -> ConfigPath:
        return ConfigPath(self, (key,))

    def __repr__(self) -> str:
        return f"Config({self._hw_name!r})"


def flow_configs(flow_cls: type) -> dict[str, Config]:
    """Configs of a flow class by attribute name, in definition order (bases first)."""
    out: dict[str, Config] = {}
    for klass in reversed(flow_cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Config):
                out[attr] = value
    return out


# --- reading values ------------------------------------------------------------------------------


def read_config_values(
    flow_cls: type,
    files: Mapping[str, str],
    texts: Mapping[str, str],
    user: str,
) -> dict[str, Any]:
    """The value of every config of ``flow_cls`` by attribute name.

    ``files`` (``--config NAME PATH``) and ``texts`` (``--config-value NAME JSON``) are keyed by
    config name. Raises ConfigError with a one-line message for anything wrong.
    """
    configs = flow_configs(flow_cls)
    by_name = {c._hw_name: c for c in configs.values()}
    for option, given in (("--config", files), ("--config-value", texts)):
        for name in given:
            if name not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                raise ConfigError(
                    f"{option} {name}: {flow_cls.__name__} has no config named '{name}' "
                    f"(its configs: {known})"
                )
    for name in files:
        if name in texts:
            raise ConfigError(
                f"config '{name}' is given by both --config and --config-value: pass one"
            )
    from headwater.core.parameters import ParameterContext

    values: dict[str, Any] = {}
    for attr, config in configs.items():
        name = config._hw_name
        context = ParameterContext(flow_cls.__name__, user, name)
        values[attr] = load_config(config, files.get(name), texts.get(name), context)
    return values


def load_config(config: Config, path: str | None, text: str | None, context: Any) -> Any:
    """One config's value (see the module docstring for the order of sources)."""
    name = config._hw_name
    if text is not None:
        return _parse(config, text, "the --config-value text")
    if path is not None:
        how = f"pass an existing file to --config {name}"
        return _parse(config, _read(config, path, how), f"file {path!r}")
    default = config._hw_default
    if callable(default):
        default = default(context)
    fallback = config._hw_default_value
    if default is not None:
        full = os.path.expanduser(str(default))
        if os.path.exists(full) or fallback is None:
            how = f"create it, or pass --config {name} PATH"
            return _parse(config, _read(config, str(default), how), f"file {str(default)!r}")
    if callable(fallback):
        fallback = fallback(context)
    if fallback is None:
        if config._hw_required:
            raise ConfigError(
                f"config '{name}' is required: pass --config {name} PATH or "
                f"--config-value {name} JSON"
            )
        return None
    if isinstance(fallback, str):
        return _parse(config, fallback, "its default_value")
    if config._hw_plain:
        return fallback
    if isinstance(fallback, Mapping):
        return ConfigValue(fallback)
    raise ConfigError(
        f"config '{name}': default_value is a {type(fallback).__name__}; give a dict or a "
        "string to parse, or say Config(..., plain=True)"
    )


def _read(config: Config, path: str, how_to_fix: str) -> str:
    full = os.path.expanduser(path)
    try:
        with open(full, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ConfigError(
            f"config '{config._hw_name}': the file {path!r} does not exist "
            f"(in {os.getcwd()}): {how_to_fix}"
        ) from None
    except (OSError, UnicodeDecodeError) as ex:
        reason = getattr(ex, "strerror", None) or "not UTF-8 text"
        raise ConfigError(
            f"config '{config._hw_name}': cannot read {path!r} ({reason}): pass a readable "
            f"file with --config {config._hw_name} PATH"
        ) from None


def _parse(config: Config, text: str, source: str) -> Any:
    name = config._hw_name
    parser = config._hw_parser
    if parser is None:
        import json

        try:
            value = json.loads(text)
        except json.JSONDecodeError as ex:
            raise ConfigError(
                f"config '{name}': {source} is not valid JSON ({ex.msg} at line {ex.lineno} "
                f"column {ex.colno}): fix it, or give the Config a parser= for another format"
            ) from None
        how = "JSON"
    else:
        func = _parser_function(config, parser)
        how = f"the parser {_parser_name(parser)}"
        try:
            value = func(text)
        except Exception as ex:  # noqa: BLE001 - user code: one line, not a traceback
            detail = str(ex).strip().splitlines()
            msg = f"{type(ex).__name__}: {detail[0]}" if detail else type(ex).__name__
            raise ConfigError(
                f"config '{name}': {how} failed on {source} ({msg}): fix the text or the parser"
            ) from None
    if config._hw_plain:
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"config '{name}': {how} made a {type(value).__name__} of {source}; a config "
            "must be a dict (a JSON object), or say Config(..., plain=True)"
        )
    return ConfigValue(value)


def _parser_name(parser: Any) -> str:
    if isinstance(parser, str):
        return repr(parser)
    return getattr(parser, "__qualname__", None) or repr(parser)


def _parser_function(config: Config, parser: Any) -> Callable[[str], Any]:
    if callable(parser):
        return parser
    module_name, _, func_name = str(parser).rpartition(".")
    if not module_name or not func_name:
        raise ConfigError(
            f"config '{config._hw_name}': parser {parser!r} names no function: write "
            "'module.function', as in parser='tomllib.loads'"
        )
    import importlib

    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as ex:
        raise ConfigError(
            f"config '{config._hw_name}': cannot load the parser {parser!r} ({ex}): install "
            "its module or fix the name"
        ) from None
    if not callable(func):
        raise ConfigError(f"config '{config._hw_name}': the parser {parser!r} is not a function")
    return func


# --- applying values to the flow class -----------------------------------------------------------


class ConfigResolver:
    """Evaluates deferred values against a flow's resolved configs."""

    def __init__(self, flow_cls: type, values: Mapping[str, Any]) -> None:
        self.flow_cls = flow_cls
        self.configs = flow_configs(flow_cls)
        self.values = dict(values)
        self._by_config = {id(c): values.get(attr) for attr, c in self.configs.items()}

    def config_value(self, config: Any, expr: str) -> Any:
        key = id(config)
        if key not in self._by_config:
            raise ConfigError(
                f"{expr} reads {config!r}, which is not a config of {self.flow_cls.__name__}: "
                "make it a class attribute of the flow"
            )
        return self._by_config[key]

    def names(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attr, config in self.configs.items():
            value = self.values.get(attr)
            if config._hw_name.isidentifier():
                out[config._hw_name] = value
            out[attr] = value
        return out

    def resolve(self, value: Any) -> Any:
        return resolve_value(value, self)


def apply_configs(flow_cls: type, values: Mapping[str, Any]) -> None:
    """Evaluate every deferred value of ``flow_cls`` (step and flow decorator arguments,
    Parameter defaults) with the configs' ``values`` (by attribute name).

    Decorators keep the arguments as written, so applying other values later (another command
    in the same process) evaluates them again.
    """
    from headwater.core.flow_decorators import flow_decorators
    from headwater.core.parameters import flow_parameters
    from headwater.core.step import is_step

    resolver = ConfigResolver(flow_cls, values)
    for klass in reversed(flow_cls.__mro__):
        for attr, func in vars(klass).items():
            if not is_step(func):
                continue
            for deco in getattr(func, "decorators", ()):
                resolve = getattr(deco, "_resolve_configs", None)
                if resolve is None:
                    continue  # not a StepDecorator: it cannot hold deferred values
                try:
                    resolve(resolver.resolve)
                except ConfigError as ex:
                    raise ConfigError(f"@{deco.name} of step '{attr}': {ex}") from None
                except InvalidFlow as ex:
                    raise InvalidFlow(f"step '{attr}': {ex}", step=attr) from None
    for deco in flow_decorators(flow_cls):
        try:
            getattr(deco, "_resolve_configs", _nothing)(resolver.resolve)
        except ConfigError as ex:
            raise ConfigError(f"@{deco.name} of flow {flow_cls.__name__}: {ex}") from None
    for param in flow_parameters(flow_cls).values():
        try:
            getattr(param, "_resolve_configs", _nothing)(resolver.resolve)
        except ConfigError as ex:
            raise ConfigError(f"the default of parameter '{param.name}': {ex}") from None
    _resolve_class_constants(flow_cls, resolver)


def _nothing(resolve: Callable[[Any], Any]) -> None:
    """What an object without deferred values does when configs are applied."""


def _resolve_class_constants(flow_cls: type, resolver: ConfigResolver) -> None:
    """Class attributes written with configs (``limit = cfg.limit``) take their values; the
    expressions are kept in ``_hw_deferred_constants`` of their class for a later apply."""
    for klass in flow_cls.__mro__:
        if klass is object:
            continue
        kept = klass.__dict__.get("_hw_deferred_constants")
        if kept is None:
            kept = {
                attr: value
                for attr, value in vars(klass).items()
                if not attr.startswith("__") and contains_deferred(value)
            }
            if not kept:
                continue
            type.__setattr__(klass, "_hw_deferred_constants", kept)
        for attr, value in kept.items():
            try:
                type.__setattr__(klass, attr, resolver.resolve(value))
            except ConfigError as ex:
                raise ConfigError(f"{klass.__name__}.{attr}: {ex}") from None
