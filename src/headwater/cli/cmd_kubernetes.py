"""``kubernetes list|kill``: a flow's Jobs on the Kubernetes cluster (tasks of runs started
with ``--with kubernetes`` or ``@kubernetes``)."""

from __future__ import annotations

import argparse

from headwater.cli.context import CliContext
from headwater.exceptions import CommandLineError


def register(sub: argparse._SubParsersAction, flow_cls: type) -> None:
    k = sub.add_parser("kubernetes", help="list or stop the flow's Kubernetes Jobs")
    ksub = k.add_subparsers(dest="kubernetes_command", metavar="ACTION")
    for name, help_text in (
        ("list", "list the Jobs of the flow's tasks (of one run with --run-id)"),
        ("kill", "delete the Jobs of a run's tasks (stopping them)"),
    ):
        p = ksub.add_parser(name, help=help_text)
        p.add_argument("--run-id", default=None, metavar="RUN", help="only this run's Jobs")
        p.add_argument(
            "--namespace",
            default=None,
            metavar="NS",
            help="the Kubernetes namespace (default: HEADWATER_KUBERNETES_NAMESPACE, else default)",
        )
        p.set_defaults(handler=handle, action=name)
    k.set_defaults(handler=_needs_action)


def _needs_action(args: argparse.Namespace, ctx: CliContext) -> int:
    raise CommandLineError("kubernetes needs an action: list or kill")


def handle(args: argparse.Namespace, ctx: CliContext) -> int:
    import importlib.util

    if importlib.util.find_spec("kubernetes") is None:
        from headwater.exceptions import MissingExtra

        raise MissingExtra("the kubernetes command", "kubernetes", "k8s")
    from headwater.plugins.kubernetes_jobs import executor, jobs
    from headwater.settings import plugin_setting

    if args.action == "kill" and args.run_id is None:
        raise CommandLineError("kubernetes kill needs --run-id RUN: the run whose Jobs to stop")
    namespace = args.namespace or plugin_setting(executor.NAMESPACE) or "default"
    api = jobs.connect(plugin_setting(executor.CONTEXT))
    found = jobs.list_jobs(api, namespace, ctx.flow_name, args.run_id)
    what = f"run {args.run_id} of {ctx.flow_name}" if args.run_id else ctx.flow_name
    if args.action == "list":
        if not found:
            ctx.out.info(f"No Kubernetes Jobs of {what} in namespace {namespace}.")
        for job in found:
            ctx.out.echo(
                f"{job.pathspec} attempt {job.attempt}\t{job.status}\t{job.namespace}/{job.name}"
            )
        return 0
    jobs.delete_jobs(api, found)
    ctx.out.info(f"Deleted {len(found)} Kubernetes Jobs of {what} in namespace {namespace}.")
    return 0
