"""``--config NAME PATH`` and ``--config-value NAME JSON``: reading a flow's configs for a
command, and evaluating the decorator arguments and Parameter defaults that use them."""

from __future__ import annotations

import sys

from headwater import config
from headwater.exceptions import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.cli.context import CliContext


def from_environment(option: str) -> dict[str, str]:
    """Configs given in the environment, used when the command line gives none: for
    ``--config``, ``HEADWATER_FLOW_CONFIG`` (or Metaflow's ``METAFLOW_FLOW_CONFIG``), a JSON
    object of config name to file path; for ``--config-value``,
    ``HEADWATER_FLOW_CONFIG_VALUE`` (``METAFLOW_FLOW_CONFIG_VALUE``), a JSON object of config
    name to value."""
    import json
    import os

    suffix = "FLOW_CONFIG" if option == "--config" else "FLOW_CONFIG_VALUE"
    for var in (f"HEADWATER_{suffix}", f"METAFLOW_{suffix}"):
        text = os.environ.get(var)
        if not text:
            continue
        try:
            given = json.loads(text)
        except ValueError as ex:
            raise ConfigError(f"{var} is not valid JSON ({ex}): give a JSON object") from None
        if not isinstance(given, dict):
            raise ConfigError(f"{var} must be a JSON object of config name to value")
        # A value may be given as JSON text or as the JSON value itself.
        return {
            str(name): value if isinstance(value, str) else json.dumps(value)
            for name, value in given.items()
        }
    return {}


def resolve(ctx: CliContext, saved: dict[str, Any] | None = None) -> dict[str, Any]:
    """The flow's config values by attribute name, applied to the flow class, then its
    mutators and custom decorators (see headwater.core.mutable).

    Without ``saved`` they come from the command line and the configs' defaults; with it, from
    an earlier run (``resume``, and tasks started by the subprocess executor).
    """
    from headwater.core.decorators import is_custom_decospec

    user_specs = [s for s in ctx.decospecs if is_custom_decospec(s)]
    customised = user_specs or "headwater.core.user_decorators" in sys.modules
    if customised:
        from headwater.core.mutable import restore_written

        restore_written(ctx.flow_cls)
    values, resolver = _apply_configs(ctx, saved)
    if customised:
        from headwater.core.mutable import apply_mutators

        apply_mutators(ctx.flow_cls, values, resolver, user_specs)
    return values


def _apply_configs(ctx: CliContext, saved: dict[str, Any] | None) -> tuple[dict[str, Any], Any]:
    module = sys.modules.get("headwater.core.configs")
    if module is None or not module.flow_configs(ctx.flow_cls):
        if ctx.config_files or ctx.config_texts:
            from headwater.core.configs import read_config_values

            read_config_values(ctx.flow_cls, ctx.config_files, ctx.config_texts, "")  # raises
        return {}, None
    configs = module.flow_configs(ctx.flow_cls)
    if saved is None:
        values = module.read_config_values(
            ctx.flow_cls, ctx.config_files, ctx.config_texts, config.username()
        )
    else:
        missing = [c._hw_name for attr, c in configs.items() if attr not in saved]
        if missing:
            raise ConfigError(
                f"the run has no value for config '{missing[0]}' (the config was added to "
                f"{ctx.flow_cls.__name__} after the run started): start a new run with `run`"
            )
        values = {attr: saved[attr] for attr in configs}
    module.apply_configs(ctx.flow_cls, values)
    return values, module.ConfigResolver(ctx.flow_cls, values).resolve
