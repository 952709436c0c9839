"""The ``headwater`` command (commands that are not about one flow file)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from headwater.cli.output import Output
from headwater.exceptions import HeadwaterException


def main(argv: Sequence[str] | None = None) -> int:
    import headwater

    parser = argparse.ArgumentParser(prog="headwater", description="headwater command line")
    parser.add_argument("--version", action="version", version=f"headwater {headwater.__version__}")
    parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    out = Output()
    try:
        parser.print_help()
    except HeadwaterException as ex:
        out.error(str(ex))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
