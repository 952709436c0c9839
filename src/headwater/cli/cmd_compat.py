"""``headwater metaflow-compat DIR``: write a ``metaflow`` package that runs Metaflow flows on
headwater (``PYTHONPATH=DIR python flow.py run``)."""

from __future__ import annotations

import argparse

from headwater.cli.output import Output


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metaflow-compat",
        help="write a `metaflow` package into DIR so Metaflow flows and scripts run on headwater",
        description=(
            "Write a `metaflow` compatibility package into DIR. With DIR on PYTHONPATH, an "
            "unmodified Metaflow flow runs with `python flow.py run`, and scripts using "
            "`from metaflow import Flow` read headwater runs. It never writes over a real "
            "Metaflow installation."
        ),
    )
    p.add_argument("directory", metavar="DIR", help="directory to write the package into")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from headwater.metaflow_compat.writer import write_package

    written = write_package(args.directory)
    out.success(f"Wrote the metaflow compatibility package to {written.package_dir}.")
    out.info(f"  use it: PYTHONPATH={written.package_dir.parent} python flow.py run")
    if written.shadowed:
        out.warn(
            f"a real Metaflow is installed at {written.shadowed}; with "
            f"{written.package_dir.parent} on PYTHONPATH, headwater's package hides it"
        )
    return 0
