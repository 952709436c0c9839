"""``headwater bootstrap --flow F --run-id R -- ARGS``: run a flow command from the run's code
package, where only headwater is installed (a Kubernetes pod, a scheduler's worker).

It reads the run's code package from the datastore the settings name (the environment, the
settings file), unpacks it into a new directory (or ``--dir``), and replaces itself with
``python <flow file> ARGS`` run there, e.g. ``ARGS`` = ``step train --spec ...``.
"""

from __future__ import annotations

import argparse
import os
import sys

from headwater.cli.output import Output
from headwater.exceptions import CommandLineError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bootstrap",
        help="run a flow command from a run's code package (what remote tasks run)",
        description="Fetch the code package of run RUN of flow FLOW from the datastore, unpack "
        "it, and run `python <flow file> ARGS` in it.",
    )
    p.add_argument("--flow", required=True, help="the flow's name")
    p.add_argument("--run-id", required=True, help="the run whose code to use")
    p.add_argument("--dir", default=None, help="where to unpack it (default: a new temp dir)")
    p.add_argument(
        "args", nargs=argparse.REMAINDER, metavar="ARGS", help="the flow command, after --"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from headwater.core.ids import params_path
    from headwater.datastore.code_package import CodePackage
    from headwater.runtime.launch import CODE_PACKAGE
    from headwater.stores import open_stores

    command = list(args.args)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise CommandLineError("bootstrap needs the flow command after --, as in -- step STEP ...")
    stores = open_stores()
    ds = stores.datastore
    index = ds.read_index(params_path(args.flow, args.run_id))
    key = index.attrs.get(CODE_PACKAGE)
    if not key:
        raise CommandLineError(
            f"run {args.run_id} of {args.flow} has no code package: it was not started from a "
            "flow file"
        )
    package = CodePackage(ds.load_package(args.flow, key), key)
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
    directory = package.extract(args.dir)
    flow_file = os.path.join(directory, package.info["flow_file"])
    stores.close()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.chdir(directory)
    os.execv(sys.executable, [sys.executable, flow_file, *command])
    return 0  # pragma: no cover - execv does not return
