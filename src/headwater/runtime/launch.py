"""What happens once per run before any task: resolve parameters, save them with constants."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence

from headwater.core.flowspec import class_constants
from headwater.core.graph import FlowGraph
from headwater.core.ids import params_path
from headwater.core.parameters import (
    RESERVED_PARAMETER_NAMES,
    Parameter,
    ParameterContext,
    flow_parameters,
)
from headwater.datastore.records import TaskIndex
from headwater.exceptions import ConfigError, ParameterError, UnpicklableArtifact

CODE_PACKAGE = "code_package"  # in a run's parameters index: the key of its code package

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.store import Datastore


def check_parameter_names(flow_cls: type) -> None:
    seen: dict[str, str] = {}
    for attr, param in flow_parameters(flow_cls).items():
        if param.name in RESERVED_PARAMETER_NAMES or param.name.replace("_", "-") in (
            RESERVED_PARAMETER_NAMES
        ):
            raise ParameterError(
                f"parameter '{param.name}' of {flow_cls.__name__} uses a reserved name "
                "(it collides with a command-line option): rename it"
            )
        if param.name in seen:
            raise ParameterError(
                f"parameters '{seen[param.name]}' and '{attr}' of {flow_cls.__name__} share the "
                f"name '{param.name}': give each a distinct name"
            )
        seen[param.name] = attr
    configs = _configs(flow_cls)
    for attr, config in configs.items():
        name = config._hw_name
        if name in seen:
            kind = "config" if seen[name] in configs else "parameter"
            raise ParameterError(
                f"config '{attr}' and {kind} '{seen[name]}' of {flow_cls.__name__} share the "
                f"name '{name}': give each a distinct name"
            )
        seen[name] = attr


def _configs(flow_cls: type) -> dict[str, Any]:
    """The flow's configs by attribute name (none without importing: a flow that has one
    imported headwater.core.configs to make it)."""
    module = sys.modules.get("headwater.core.configs")
    return {} if module is None else module.flow_configs(flow_cls)


def resolve_parameters(
    flow_cls: type,
    given: Mapping[str, str | None],
    user: str,
    environ: Mapping[str, str] | None = None,
    configs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Values of every parameter by attribute name; ``given`` is keyed by parameter name.
    ``configs`` (config values by attribute name) are what callable defaults read as
    ``ctx.configs``."""
    by_name = _configs_by_name(flow_cls, configs or {})
    values: dict[str, Any] = {}
    for attr, param in flow_parameters(flow_cls).items():
        ctx = ParameterContext(flow_cls.__name__, user, param.name, by_name)
        values[attr] = param.resolve(given.get(param.name), ctx, environ)
    return values


def _configs_by_name(flow_cls: type, configs: Mapping[str, Any]) -> Any:
    """The flow's config values as a read-only mapping by config name (and attribute name)
    that reads keys as attributes, for ``ctx.configs`` of callable defaults."""
    from headwater.core.config_value import ConfigValue

    named = {}
    for attr, config in _configs(flow_cls).items():
        if attr in configs:
            named[attr] = configs[attr]
            named[config._hw_name] = configs[attr]
    return ConfigValue(named)


def save_run_inputs(
    ds: Datastore,
    flow_cls: type,
    run_id: str,
    parameters: Mapping[str, Any],
    graph: FlowGraph | None = None,
    configs: Mapping[str, Any] | None = None,
    code_package: str | None = None,
) -> TaskIndex:
    """Save parameters, configs and class constants as the run's ``_parameters`` pseudo-task.

    With ``graph``, its ``to_dict()`` is kept in the index attrs as ``graph`` (readers with no
    flow class, such as the UI, draw the run from it). ``configs`` are the resolved config
    values by attribute name; the attrs map their attribute names to config names
    (``configs``), which tasks treat as read-only like parameters.
    """
    constants = class_constants(flow_cls)
    configs = dict(configs or {})
    values: dict[str, Any] = dict(constants)
    values.update(configs)
    values.update(parameters)
    try:
        refs = ds.save_values(flow_cls.__name__, values)
    except UnpicklableArtifact as ex:
        if ex.name not in configs:
            raise
        cause = ex.__cause__
        reason = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        raise ConfigError(
            f"config '{_configs(flow_cls)[ex.name]._hw_name}' cannot be saved with the run: "
            f"its value does not pickle{reason}; give it plain data (dicts, lists, numbers, "
            "strings)"
        ) from None
    attrs: dict[str, Any] = {
        "parameters": sorted(parameters),
        "constants": sorted(constants),
        "parameter_names": {attr: p.name for attr, p in flow_parameters(flow_cls).items()},
    }
    if configs:
        flow_configs = _configs(flow_cls)
        attrs["configs"] = {attr: flow_configs[attr]._hw_name for attr in sorted(configs)}
    if graph is not None:
        attrs["graph"] = json.loads(json.dumps(graph.to_dict(), default=str))
    if code_package is not None:
        attrs[CODE_PACKAGE] = code_package
    index = TaskIndex(artifacts=refs, attrs=attrs)
    ds.write_index(params_path(flow_cls.__name__, run_id), index)
    return index


def save_code_package(ds: Datastore, flow_cls: type, suffixes: Sequence[str] = ()) -> str | None:
    """Pack the flow file's directory into the datastore (stored once per content); its key,
    or None when the flow was not defined in a file (a notebook cell)."""
    from headwater.datastore.code_package import pack

    path = getattr(sys.modules.get(flow_cls.__module__), "__file__", None)
    if not path or not path.endswith(".py"):
        return None
    return ds.save_package(flow_cls.__name__, pack(path, suffixes))


def copy_run_inputs(
    ds: Datastore, flow: str, origin_run_id: str, run_id: str, code_package: str | None
) -> None:
    """A resumed run's parameters, configs and constants: the origin's (keys only), with the
    code package of the code that runs now."""
    index = ds.read_index(params_path(flow, origin_run_id))
    attrs = dict(index.attrs)
    attrs.pop(CODE_PACKAGE, None)
    if code_package is not None:
        attrs[CODE_PACKAGE] = code_package
    ds.write_index(params_path(flow, run_id), index._replace(attrs=attrs))


def load_run_configs(ds: Datastore, flow: str, run_id: str) -> dict[str, Any]:
    """The config values a run was started with, by attribute name."""
    index = ds.read_index(params_path(flow, run_id))
    return saved_configs(ds, flow, index)


def saved_configs(ds: Datastore, flow: str, index: TaskIndex) -> dict[str, Any]:
    """The config values kept in a ``_parameters`` index, by attribute name."""
    out: dict[str, Any] = {}
    for attr in (index.attrs or {}).get("configs") or {}:
        ref = index.artifacts.get(attr)
        if ref is not None:
            out[attr] = ds.load_value(flow, ref.key)
    return out


def system_tags(user: str, runtime: str = "dev") -> list[str]:
    """``runtime:dev`` for runs of the local runtime; a scheduler's runs say what ran them."""
    version = "{}.{}.{}".format(*sys.version_info[:3])
    return [f"user:{user}", f"runtime:{runtime}", f"python_version:{version}"]


def describe_parameter(param: Parameter) -> str:
    return f"--{param.name} ({param.type_name})"
