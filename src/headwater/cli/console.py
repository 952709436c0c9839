"""The ``headwater`` command (commands that are not about one flow file).

Each subcommand is a module registered by name (headwater.registry, group ``commands``; an
installed package adds its own the same way); a module provides ``register(subparsers)``,
which adds its parser and sets ``run(args, out) -> exit code`` as the parser's ``func``
default. Only the module of the command named is imported (every one for ``--help``), and
they import their heavy parts inside ``run``.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from headwater import config
from headwater.cli.main import ArgumentParser
from headwater.cli.output import Output
from headwater.exceptions import HeadwaterException


def build_parser(argv: Sequence[str] | None = None) -> ArgumentParser:
    """The parser, with the subcommand ``argv`` names (every one when it names none)."""
    import headwater
    from headwater import registry

    parser = ArgumentParser(prog="headwater", description="headwater command line")
    parser.add_argument("--version", action="version", version=f"headwater {headwater.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    first = next((a for a in argv or () if not a.startswith("-")), None)
    names = [first] if first and registry.target("commands", first) else registry.names("commands")
    for name in names:
        registry.load("commands", name, "headwater command").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    out = Output()
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(args_list)
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
