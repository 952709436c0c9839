"""``python flow.py [OPTIONS] COMMAND``: parse, dispatch, and turn errors into one line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from headwater import config
from headwater.cli.context import CliContext
from headwater.cli.output import Output
from headwater.exceptions import CommandLineError, HeadwaterException

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import NoReturn

# Command name -> the module that registers it. Only the module of the command being run is
# imported (the others pull in the client and more), unless no command is named.
COMMANDS = {
    "run": "headwater.cli.cmd_run",
    "step": "headwater.cli.cmd_step",
    "init": "headwater.cli.cmd_step",
    "resume": "headwater.cli.cmd_resume",
    "show": "headwater.cli.cmd_graph",
    "check": "headwater.cli.cmd_graph",
    "dump": "headwater.cli.cmd_inspect",
    "logs": "headwater.cli.cmd_inspect",
    "tag": "headwater.cli.cmd_tag",
    "card": "headwater.cli.cmd_card",
    "airflow": "headwater.cli.cmd_airflow",
    "argo-workflows": "headwater.cli.cmd_argo",
    "kubernetes": "headwater.cli.cmd_kubernetes",
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises a one-line CommandLineError instead of exiting with usage text."""

    def error(self, message: str) -> NoReturn:
        import re

        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if m:  # a misspelt command (or choice): name the near one first
            from headwater.core.suggest import did_you_mean

            hint = did_you_mean(m.group(1), re.findall(r"'([^']*)'", m.group(2)))
            if hint:
                message = f"{message[: m.start()]}invalid choice: '{m.group(1)}' ({hint})"
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
        default=None,
        metavar="KIND",
        help="where artifacts are stored: local or s3 (default: HEADWATER_DEFAULT_DATASTORE, "
        "else local)",
    )
    parser.add_argument(
        "--datastore-root",
        default=None,
        metavar="ROOT",
        help="the datastore's root: a directory, or s3://bucket/prefix (default: "
        "HEADWATER_DATASTORE_ROOT; for local, HEADWATER_ROOT or the nearest ./.headwater)",
    )
    parser.add_argument(
        "--metadata",
        default=None,
        metavar="KIND",
        help="where run records are kept: local (SQLite in the local root) or service "
        "(default: HEADWATER_DEFAULT_METADATA, else local)",
    )
    parser.add_argument(
        "--package-suffixes",
        default="",
        metavar="SUFFIXES",
        help="file suffixes (comma-separated, e.g. .csv,.sql) to put in the run's code package "
        "besides .py, .R and .RDS",
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


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """The parser's long options, and those of its subcommands."""
    out = []
    for action in parser._actions:
        out += [s for s in action.option_strings if s.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                out += _option_strings(sub)
    return out


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            return action.choices[name]
    return None


def _unknown_options(
    flow_cls: type, command: str | None, extra: list[str], parser: argparse.ArgumentParser
) -> str:
    from headwater.cli.flow_options import misplaced_option
    from headwater.core.parameters import flow_parameters
    from headwater.core.suggest import did_you_mean

    options = [w for w in extra if w.startswith("-")]
    what = options[0].split("=", 1)[0] if options else extra[0]
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
        hint = did_you_mean(what, _option_strings(parser))
        return (
            f"unknown command or option {what!r}: "
            + (f"{hint} " if hint else "")
            + f"see python {_script_name(flow_cls)} --help"
        )
    if not options:
        return (
            f"unexpected argument {what!r} for '{command}': see python "
            f"{_script_name(flow_cls)} {command} --help"
        )
    params = [f"--{p.name}" for p in flow_parameters(flow_cls).values()]
    hint = f"see python {_script_name(flow_cls)} {command} --help"
    if command == "resume" and (what in params or did_you_mean(what, params)):
        return f"unknown option {what!r}: resume takes parameters from the origin run"
    command_parser = _subcommand(parser, command)
    known = _option_strings(command_parser) if command_parser is not None else []
    known += [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
    close = did_you_mean(what, known)
    if close:
        return f"unknown option {what!r} for '{command}': {close}"
    if command == "run":
        hint = f"{flow_cls.__name__}'s parameters are: {', '.join(params) or 'none'}; {hint}"
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


class _DebugForTasks:
    """``--debug`` reaches the tasks a command starts (forked or not) as HEADWATER_DEBUG=1,
    for as long as the command runs: their failures then show every frame."""

    def __init__(self, debug: bool) -> None:
        self.set = debug and not config.debug_enabled()

    def __enter__(self) -> None:
        if self.set:
            os.environ["HEADWATER_DEBUG"] = "1"

    def __exit__(self, *exc: object) -> None:
        if self.set:
            os.environ.pop("HEADWATER_DEBUG", None)


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

        argv = list(argv)
        parser = build_parser(flow_cls, argv)
        check_before_command(flow_cls, argv, parser, COMMANDS)  # e.g. --branch, no @project
        args, extra = parser.parse_known_args(argv)
        if args.command is None and not extra:
            argv.append("check")  # no command means check
            parser = build_parser(flow_cls, argv)
            args, extra = parser.parse_known_args(argv)
        if extra and not (args.command == "run" and _has_flow_mutators(flow_cls)):
            raise CommandLineError(_unknown_options(flow_cls, args.command, extra, parser))
        out.quiet = args.quiet
        ctx = CliContext(
            flow_cls=flow_cls,
            out=out,
            package_suffixes=[s.strip() for s in args.package_suffixes.split(",") if s.strip()],
            store_options={
                "datastore": args.datastore,
                "datastore_root": args.datastore_root,
                "metadata": args.metadata,
            },
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
            parser = build_parser(flow_cls, argv)
            args, extra = parser.parse_known_args(argv)
            if extra:
                raise CommandLineError(_unknown_options(flow_cls, args.command, extra, parser))
        with _DebugForTasks(ctx.debug):
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
