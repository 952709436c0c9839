"""``airflow create FILE``: compile the flow into an Airflow 3 DAG file."""

from __future__ import annotations

import argparse
import os

from headwater.cli.context import CliContext
from headwater.exceptions import CommandLineError, InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.plugins.deploy.deployment import Deployment

TARGET = "airflow"
DAG_ID_CHARS = r"[A-Za-z0-9_.-]"


def register(sub: argparse._SubParsersAction, flow_cls: type) -> None:
    from headwater.cli.deploy_options import add_deploy_options

    p = sub.add_parser("airflow", help="compile the flow for Apache Airflow")
    cmds = p.add_subparsers(dest="airflow_command", metavar="COMMAND")
    c = cmds.add_parser("create", help="write the flow as an Airflow DAG file")
    c.add_argument("file", metavar="FILE", help="the DAG file to write (e.g. in dags/)")
    add_deploy_options(c, "DAG")
    c.add_argument(
        "--python",
        default=None,
        metavar="PATH",
        help="the Python that runs the flow's tasks on the workers (default: this one)",
    )
    c.set_defaults(handler=handle_create)
    p.set_defaults(handler=_needs_subcommand)


def _needs_subcommand(args: argparse.Namespace, ctx: CliContext) -> int:
    raise CommandLineError("airflow needs a subcommand: create FILE")


def check_airflow_triggers(dep: Deployment) -> None:
    """What Airflow cannot do, as one-line errors."""
    t = dep.triggers
    if t.cron and (t.events or t.flows):
        raise InvalidFlow(
            "Airflow runs a DAG on a schedule or on assets, not both: keep @schedule, or "
            "@trigger/@trigger_on_finish"
        )
    for event in t.events:
        if event["parameters"]:
            raise InvalidFlow(
                f"@trigger(event={event['name']!r}) maps payload fields to parameters, which "
                "Airflow cannot do: pass the event's name only, or deploy to Argo Workflows"
            )


def handle_create(args: argparse.Namespace, ctx: CliContext) -> int:
    from headwater.cli.deploy_options import announce, prepare, record
    from headwater.plugins.airflow.dag_file import dag_file_text

    if not args.file.endswith(".py"):
        raise CommandLineError(f"{args.file}: an Airflow DAG file must end in .py")
    dep, is_new = prepare(ctx, args, TARGET, DAG_ID_CHARS, python=args.python)
    check_airflow_triggers(dep)
    package = None
    if any(s.kubernetes for s in dep.steps.values()):  # its pods unpack the code package
        from headwater.runtime.launch import save_code_package

        package = save_code_package(ctx.stores().datastore, ctx.flow_cls, ctx.package_suffixes)
    text = dag_file_text(dep, os.path.basename(dep.flow_file), package, os.environ)
    path = os.path.abspath(args.file)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as ex:
        raise CommandLineError(
            f"cannot write {args.file} ({ex.strerror}): pass a writable path"
        ) from None
    record(
        ctx,
        dep,
        TARGET,
        {"dag_id": dep.name, "dag_file": path},
        attribute_file=args.deployer_attribute_file,
    )
    lines = [f"DAG file: {path}", f"trigger it: airflow dags trigger {dep.name}"]
    if dep.secret_env:
        lines.append(f"workers need {', '.join(dep.secret_env)} in their environment")
    announce(ctx, dep, "the Airflow DAG", is_new, lines)
    return 0
