"""``python flow.py [OPTIONS] COMMAND``: parse, dispatch, and turn errors into one line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from headwater import config
from headwater.cli.context import CliContext
from headwater.cli.output import Output
from headwater.exceptions import CommandLineError, HeadwaterException

# Command name -> the module that registers it. Only the module of the command being run is
# imported (the others pull in the client and more), unless no command is named.
COMMANDS = {
    "run": "headwater.cli.cmd_run",
    "step": "headwater.cli.cmd_run",
    "resume": "headwater.cli.cmd_resume",
    "show": "headwater.cli.cmd_graph",
    "check": "headwater.cli.cmd_graph",
    "dump": "headwater.cli.cmd_inspect",
    "logs": "headwater.cli.cmd_inspect",
    "tag": "headwater.cli.cmd_tag",
    "card": "headwater.cli.cmd_card",
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises a one-line CommandLineError instead of exiting with usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CommandLineError(f"{message} (see: {self.prog} --help)")


def build_parser(flow_cls: type, argv: Sequence[str] | None = None) -> ArgumentParser:
    import importlib

    prog = f"python {_script_name(flow_cls)}"
    parser = ArgumentParser(
        prog=prog, allow_abbrev=False, description=(flow_cls.__doc__ or "").strip() or None
    )
    parser.add_argument("--quiet", action="store_true", help="print only errors and results")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument(
        "--datastore",
        choices=["local"],
        default="local",
        help="where artifacts are stored (default: local)",
    )
    parser.add_argument(
        "--datastore-root",
        default=None,
        metavar="PATH",
        help="the datastore directory (default: ./.headwater or HEADWATER_ROOT)",
    )
    parser.add_argument(
        "--metadata",
        choices=["local"],
        default="local",
        help="where run records are kept (default: local)",
    )
    parser.add_argument(
        "--with",
        dest="decospecs",
        action="append",
        default=[],
        metavar="DECO",
        help="attach a step decorator to every step",
    )
    parser.add_argument(
        "--environment",
        choices=["local"],
        default="local",
        help="how task environments are made (default: local)",
    )
    parser.add_argument(
        "--no-pylint",
        action="store_true",
        help="accepted for Metaflow compatibility; headwater runs its own checks",
    )
    parser.add_argument(
        "--config",
        dest="config_files",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "PATH"),
        help="read the flow's config NAME from the file PATH (repeatable)" + _config_list(flow_cls),
    )
    parser.add_argument(
        "--config-value",
        dest="config_texts",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "JSON"),
        help="give the flow's config NAME as text, JSON unless its parser says otherwise "
        "(repeatable)",
    )
    from headwater.cli.flow_options import add_options

    add_options(parser, flow_cls)  # --branch/--production of @project, and the like
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    # The command is the first command name that is not the value of an option before it
    # (``--with card run`` runs ``run``).
    from headwater.cli.flow_options import command_positions

    args = list(argv or ())
    named = [COMMANDS[args[i]] for i in command_positions(parser, args, COMMANDS)]
    modules = [named[0]] if named else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        importlib.import_module(name).register(sub, flow_cls)
    return parser


def _config_list(flow_cls: type) -> str:
    """`` (Flow's configs: cfg - its help; ...)`` for the help of --config, or nothing."""
    module = sys.modules.get("headwater.core.configs")  # not loaded: the flow has no Config
    configs = module.flow_configs(flow_cls).values() if module is not None else ()
    parts = [c._hw_name + (f" - {c._hw_help}" if c._hw_help else "") for c in configs]
    for i, c in enumerate(configs):
        if c._hw_show_default and isinstance(c._hw_default, str):
            parts[i] += f" (default: {c._hw_default})"
    return f" ({flow_cls.__name__}'s configs: {'; '.join(parts)})" if parts else ""


def _script_name(flow_cls: type) -> str:
    module = sys.modules.get(flow_cls.__module__)
    path = getattr(module, "__file__", None) or "flow.py"
    return path.rsplit("/", 1)[-1]


def _unknown_options(flow_cls: type, command: str | None, extra: list[str]) -> str:
    from headwater.cli.flow_options import misplaced_option
    from headwater.core.parameters import flow_parameters

    what = " ".join(extra)
    for option in ("--config", "--config-value"):
        if option in extra:
            return (
                f"{option} is a top-level option: put it before the command, as in "
                f"python {_script_name(flow_cls)} {option} NAME VALUE {command or 'run'}"
            )
    misplaced = misplaced_option(flow_cls, extra)
    if misplaced:
        return misplaced
    if command is None:
        return f"unknown command or option {what!r}: see python {_script_name(flow_cls)} --help"
    hint = f"see python {_script_name(flow_cls)} {command} --help"
    if command == "run":
        names = [f"--{p.name}" for p in flow_parameters(flow_cls).values()]
        known = ", ".join(names) if names else "none"
        hint = f"{flow_cls.__name__}'s parameters are: {known}; {hint}"
    elif command == "resume":
        hint = f"resume takes parameters from the origin run; {hint}"
    return f"unknown option {what!r} for '{command}': {hint}"


def _pairs(given: list[list[str]], option: str) -> dict[str, str]:
    """``--config NAME VALUE`` pairs by name; a name given twice is an error."""
    out: dict[str, str] = {}
    for name, value in given:
        if name in out:
            raise CommandLineError(f"{option} {name} is given twice: pass each config once")
        out[name] = value
    return out


def _has_flow_mutators(flow_cls: type) -> bool:
    module = sys.modules.get("headwater.core.user_decorators")
    return module is not None and bool(module.flow_mutators(flow_cls))


def _env_configs(command: str | None, option: str) -> dict[str, str]:
    """Configs given in the environment (see config_options.from_environment); resume keeps
    the origin run's configs, so it reads none."""
    if command == "resume":
        return {}
    from headwater.cli.config_options import from_environment

    return from_environment(option)


def run_flow_cli(flow_cls: type, argv: Sequence[str], out: Output | None = None) -> int:
    """Run one command for ``flow_cls``; returns the process exit code."""
    out = out or Output()
    debug = config.debug_enabled() or "--debug" in argv
    try:
        from headwater.cli.flow_options import check_before_command
        from headwater.cli.flow_options import collect as collect_flow_options
        from headwater.plugins.builtin import load

        load()
        argv = list(argv)
        parser = build_parser(flow_cls, argv)
        check_before_command(flow_cls, argv, parser, COMMANDS)  # e.g. --branch, no @project
        args, extra = parser.parse_known_args(argv)
        if args.command is None and not extra:
            argv.append("check")  # no command means check
            parser = build_parser(flow_cls, argv)
            args, extra = parser.parse_known_args(argv)
        if extra and not (args.command == "run" and _has_flow_mutators(flow_cls)):
            raise CommandLineError(_unknown_options(flow_cls, args.command, extra))
        out.quiet = args.quiet
        ctx = CliContext(
            flow_cls=flow_cls,
            out=out,
            datastore_root=args.datastore_root,
            debug=debug or args.debug,
            decospecs=list(args.decospecs),
            options=collect_flow_options(args),
            config_files=_pairs(args.config_files, "--config")
            or _env_configs(args.command, "--config"),
            config_texts=_pairs(args.config_texts, "--config-value")
            or _env_configs(args.command, "--config-value"),
        )
        if args.command == "run" and _has_flow_mutators(flow_cls):
            # Flow mutators may add parameters: apply them, then read `run`'s options again.
            ctx.resolve_configs()
            args, extra = build_parser(flow_cls, argv).parse_known_args(argv)
            if extra:
                raise CommandLineError(_unknown_options(flow_cls, args.command, extra))
        return int(args.handler(args, ctx) or 0)
    except HeadwaterException as ex:
        if debug:
            import traceback  # only when asked: it is slow to import

            out.err.write(traceback.format_exc())
        out.error(str(ex))
        return 1
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    except BrokenPipeError:
        return 1
