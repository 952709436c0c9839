"""Run parameters: ``Parameter``, ``JSONType`` and ``IncludeFile``.

A parameter is a class attribute of a flow. It is resolved once when a run is launched (from
the command line, the environment, or its default) and saved with the run; inside steps it
reads as its value and cannot be assigned.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping

from headwater.exceptions import ParameterError, ReadOnlyArtifact
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

RESERVED_PARAMETER_NAMES = frozenset(
    [
        "params",
        "with",
        "tag",
        "namespace",
        "tags",
        "decospecs",
        "run-id-file",
        "max-num-splits",
        "max-workers",
        "max-log-size",
        "user-namespace",
        "run-id",
        "task-id",
    ]
)

_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off"}


class _JSONTypeClass:
    """Marker type: the parameter's value is parsed as JSON."""

    name = "JSON"

    def __repr__(self) -> str:
        return "JSONType"


JSONType = _JSONTypeClass()


class ParameterContext(Record):
    """What a callable default receives. ``configs`` reads the flow's config values by config
    name (``ctx.configs.cfg.alpha``); it is empty while the configs themselves are read."""

    flow_name: str
    user_name: str
    parameter_name: str
    configs: Any = None


def env_var_names(name: str) -> tuple[str, str]:
    key = name.upper().replace("-", "_")
    return f"HEADWATER_RUN_{key}", f"METAFLOW_RUN_{key}"


class RunValue:
    """Base of the flow class attributes whose value inside a task is the run's (Parameter,
    Config): reading one in a step gives that value, assigning it is refused. Subclasses give
    ``_hw_kind`` and ``_hw_label`` (how the attribute is written in the flow's code)."""

    _hw_kind = "value"

    if TYPE_CHECKING:  # subclasses give it as a read-only property

        @property
        def _hw_label(self) -> str: ...

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        getter = getattr(instance, "_hw_parameter_value", None)
        if getter is None:
            return self
        return getter(self._hw_label)

    def __set__(self, instance: Any, value: Any) -> None:
        raise ReadOnlyArtifact(
            f"cannot assign self.{self._hw_label}: it is a {self._hw_kind} and read-only "
            "inside steps; store the new value under another name"
        )


class Parameter(RunValue):
    """A run parameter, given as ``--<name> value`` on ``run``."""

    _hw_kind = "parameter"

    IS_INCLUDE_FILE = False

    def __init__(
        self,
        name: str,
        default: Any = None,
        type: Any = None,  # noqa: A002 - Metaflow's keyword
        help: str | None = None,  # noqa: A002
        required: bool = False,
        separator: str | None = None,
        is_flag: bool = False,
        show_default: bool = True,
        **kwargs: Any,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ParameterError("a Parameter needs a name: Parameter('alpha', default=0.1)")
        self.name = name
        self.default = default
        self.help = help
        self.required = required
        self.separator = separator
        self.is_flag = is_flag
        self.show_default = show_default
        self.attr_name: str | None = None  # set by __set_name__
        # A default read from a config (default=cfg.alpha) is evaluated when the configs are
        # read; the type is inferred from it then, unless given.
        self._deferred_default = default if _is_deferred(default) else None
        self._given_type = type
        if type is None:
            type = _infer_type(None if self._deferred_default is not None else default, is_flag)
        if type not in (str, int, float, bool) and type is not JSONType:
            raise ParameterError(
                f"parameter '{name}' has type {type!r}: use str, int, float, bool or JSONType"
            )
        self.type = type

    # --- descriptor: inside a task, reads the run's value (see RunValue) ---------------------
    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr_name = attr

    @property
    def _hw_label(self) -> str:
        return self.attr_name or self.name

    # --- resolution at launch ---------------------------------------------------------------
    def _resolve_configs(self, resolve: Callable[[Any], Any]) -> None:
        """Evaluate a default that depends on configs (see headwater.core.configs)."""
        written = getattr(self, "_deferred_default", None)  # a subclass may skip __init__
        if written is None:
            return
        self.default = resolve(written)
        if getattr(self, "_given_type", None) is None:
            self.type = _infer_type(self.default, self.is_flag)

    @property
    def type_name(self) -> str:
        if getattr(self, "_given_type", None) is None and _is_deferred(self.default):
            return "value"  # typed from the config's value once the configs are read
        return str(getattr(self.type, "__name__", None) or getattr(self.type, "name", "str"))

    def convert(self, raw: str) -> Any:
        """Convert a command-line or environment string to the parameter's value."""
        if self.separator and self.type is not JSONType:
            return [self._convert_one(part) for part in raw.split(self.separator)]
        return self._convert_one(raw)

    def _convert_one(self, raw: str) -> Any:
        t = self.type
        try:
            if t is JSONType:
                return json.loads(raw)
            if t is bool:
                low = raw.strip().lower()
                if low in _TRUE:
                    return True
                if low in _FALSE:
                    return False
                raise ValueError(raw)
            return t(raw)
        except (ValueError, TypeError) as ex:
            detail = f" ({ex.msg})" if isinstance(ex, json.JSONDecodeError) else ""
            raise ParameterError(
                f"parameter '{self.name}' expects {self._describe_type()}, got {raw!r}{detail}"
            ) from None

    def _describe_type(self) -> str:
        if self.type is JSONType:
            return "a JSON value"
        return {
            int: "an integer",
            float: "a number",
            bool: "true or false",
            str: "a string",
        }[self.type]

    def resolve(
        self,
        given: str | None,
        context: ParameterContext,
        environ: Mapping[str, str] | None = None,
    ) -> Any:
        """The value for a new run: command line, then environment, then default."""
        if given is not None:
            return self.convert(given)
        env = os.environ if environ is None else environ
        for var in env_var_names(self.name):
            if var in env:
                return self.convert(env[var])
        if self.required and self.default is None:
            raise ParameterError(
                f"parameter '{self.name}' is required: pass --{self.name} VALUE "
                f"or set {env_var_names(self.name)[0]}"
            )
        value = self.default
        if callable(value):
            value = value(context)
        if isinstance(value, str) and (
            self.type is not str or self.separator or self.IS_INCLUDE_FILE
        ):
            return self.convert(value)
        return value


def _type_of(value: Any) -> type:
    return type(value)


def _infer_type(default: Any, is_flag: bool) -> Any:
    if isinstance(default, bool) or is_flag:
        return bool
    if isinstance(default, (int, float, str)):
        return _type_of(default)
    return str


def _is_deferred(value: Any) -> bool:
    return getattr(type(value), "_hw_deferred", False) is True


class IncludeFile(Parameter):
    """A file whose contents are read at launch and saved with the run."""

    IS_INCLUDE_FILE = True

    def __init__(
        self,
        name: str,
        default: Any = None,
        is_text: bool = True,
        encoding: str = "utf-8",
        required: bool = False,
        help: str | None = None,  # noqa: A002
        **kwargs: Any,
    ) -> None:
        super().__init__(name, default=default, type=str, help=help, required=required)
        self.is_text = is_text
        self.encoding = encoding

    def convert(self, raw: str) -> Any:
        path = os.path.expanduser(raw)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as ex:
            raise ParameterError(
                f"IncludeFile '{self.name}' cannot read {raw!r} ({ex.strerror}): "
                f"pass --{self.name} with an existing file"
            ) from None
        if not self.is_text:
            return data
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError:
            raise ParameterError(
                f"IncludeFile '{self.name}': {raw!r} is not valid {self.encoding} text; "
                "set is_text=False to read it as bytes"
            ) from None


def flow_parameters(flow_cls: type) -> dict[str, Parameter]:
    """Parameters of a flow class by attribute name, in definition order (bases first)."""
    out: dict[str, Parameter] = {}
    for klass in reversed(flow_cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Parameter):
                out[attr] = value
    return out
