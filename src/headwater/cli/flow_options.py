"""Top-level options that flow decorators add (``--branch``, ``--production`` of @project).

They go before the command (``python flow.py --branch b run``) and exist only for flows that
carry the decorator; anywhere else they get an error that says which decorator they need.
"""

from __future__ import annotations

import argparse
from collections.abc import Collection, Sequence

from headwater.core.flow_decorators import flow_decorators, registered_flow_decorators

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def add_options(parser: argparse.ArgumentParser, flow_cls: type) -> None:
    """Add the options of the flow's own decorators to the top-level parser."""
    for deco in flow_decorators(flow_cls):
        for opt in deco.options:
            kwargs: dict[str, Any] = {"dest": f"flowopt__{opt.dest}", "help": opt.help}
            given = environment_default(opt.name)
            if opt.is_flag:
                flag = bool(opt.default) if given is None else _truthy(given)
                kwargs.update(action="store_true", default=flag)
            else:
                default = opt.default if given is None else given
                kwargs.update(default=default, metavar=opt.metavar)
            parser.add_argument(f"--{opt.name}", **kwargs)


def environment_default(option: str) -> str | None:
    """The value of ``--<option>`` given in the environment as ``HEADWATER_<OPTION>`` (or
    Metaflow's ``METAFLOW_<OPTION>``), used when the command line does not give it."""
    import os

    key = option.upper().replace("-", "_")
    for var in (f"HEADWATER_{key}", f"METAFLOW_{key}"):
        value = os.environ.get(var)
        if value is not None and value != "":
            return value
    return None


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "t", "yes", "y", "on")


def collect(args: argparse.Namespace) -> dict[str, Any]:
    """The values of the flow-decorator options, by option dest."""
    prefix = "flowopt__"
    return {k[len(prefix) :]: v for k, v in vars(args).items() if k.startswith(prefix)}


def misplaced_option(flow_cls: type, extra: Sequence[str]) -> str | None:
    """A one-line error when ``extra`` holds an option of a flow decorator the flow lacks."""
    own = {opt.name for deco in flow_decorators(flow_cls) for opt in deco.options}
    for word in extra:
        if not word.startswith("--"):
            continue
        name = word[2:].split("=", 1)[0]
        for deco_name, deco_cls in registered_flow_decorators().items():
            if any(opt.name == name for opt in deco_cls.options):
                if name in own:
                    return (
                        f"--{name} is a top-level option: put it before the command, as in "
                        f"python {_script(flow_cls)} --{name} ... run"
                    )
                return (
                    f"--{name} needs @{deco_name} on the flow: add @{deco_name}(...) above "
                    f"class {flow_cls.__name__}, or leave --{name} out"
                )
    return None


def check_before_command(
    flow_cls: type,
    argv: Sequence[str],
    parser: argparse.ArgumentParser,
    commands: Collection[str],
) -> None:
    """Raise a one-line error for a flow-decorator option given before the command to a flow
    without that decorator (argparse would otherwise take its value for the command)."""
    from headwater.exceptions import CommandLineError

    positions = command_positions(parser, argv, commands)
    top = list(argv[: positions[0]] if positions else argv)
    own = {opt.name for deco in flow_decorators(flow_cls) for opt in deco.options}
    words = [w for w in top if w.startswith("--") and w[2:].split("=", 1)[0] not in own]
    problem = misplaced_option(flow_cls, words)
    if problem:
        raise CommandLineError(problem)


def command_positions(
    parser: argparse.ArgumentParser, argv: Sequence[str], commands: Collection[str]
) -> list[int]:
    """Indexes in ``argv`` of words naming a command that are not the value of an option before
    them (``--with card run`` runs ``run``; ``--config check check.json`` names no command)."""
    arity: dict[str, int] = {}
    for action in parser._actions:
        n = action.nargs
        count = 0 if n == 0 else n if isinstance(n, int) else 1
        for opt in action.option_strings:
            arity[opt] = count
    out: list[int] = []
    skip = 0
    for i, word in enumerate(argv):
        if skip:
            skip -= 1
            continue
        if word in commands:
            out.append(i)
        elif "=" not in word:
            skip = arity.get(word, 0)
    return out


def _script(flow_cls: type) -> str:
    import sys

    module = sys.modules.get(flow_cls.__module__)
    path = getattr(module, "__file__", None) or "flow.py"
    return path.rsplit("/", 1)[-1]
