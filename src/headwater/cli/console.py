"""The ``headwater`` command (commands that are not about one flow file).

Each subcommand lives in its own module, listed in :data:`SUBCOMMANDS`; a module provides
``register(subparsers)``, which adds its parser and sets ``run(args, out) -> exit code`` as the
parser's ``func`` default. Only the modules listed are imported, and they import their heavy
parts inside ``run``.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence

from headwater import config
from headwater.cli.main import ArgumentParser
from headwater.cli.output import Output
from headwater.exceptions import HeadwaterException

# Subcommand name -> the module that registers it.
SUBCOMMANDS: dict[str, str] = {
    "ui": "headwater.cli.cmd_ui",
    "metaflow-compat": "headwater.cli.cmd_compat",
    "service": "headwater.cli.cmd_service",
}


def build_parser() -> ArgumentParser:
    import headwater

    parser = ArgumentParser(prog="headwater", description="headwater command line")
    parser.add_argument("--version", action="version", version=f"headwater {headwater.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for module in dict.fromkeys(SUBCOMMANDS.values()):
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    out = Output()
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(args_list)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return 0
        return int(func(args, out) or 0)
    except HeadwaterException as ex:
        if config.debug_enabled():
            out.err.write(traceback.format_exc())
        out.error(str(ex))
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
