"""``argo-workflows create``: compile the flow into Argo Workflows resources."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess

from headwater.cli.context import CliContext
from headwater.exceptions import CommandLineError

TARGET = "argo-workflows"
NAME_CHARS = r"[A-Za-z0-9_.-]"


def register(sub: argparse._SubParsersAction, flow_cls: type) -> None:
    from headwater.cli.deploy_options import add_deploy_options

    p = sub.add_parser("argo-workflows", help="compile the flow for Argo Workflows")
    cmds = p.add_subparsers(dest="argo_command", metavar="COMMAND")
    c = cmds.add_parser(
        "create", help="deploy the flow as a WorkflowTemplate (with its schedule and triggers)"
    )
    add_deploy_options(c, "WorkflowTemplate")
    c.add_argument(
        "--only-json",
        action="store_true",
        help="print the resources as JSON (a Kubernetes List) instead of applying them",
    )
    c.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="write the resources as JSON (a Kubernetes List) to FILE instead of applying them",
    )
    c.set_defaults(handler=handle_create)
    p.set_defaults(handler=_needs_subcommand)


def _needs_subcommand(args: argparse.Namespace, ctx: CliContext) -> int:
    raise CommandLineError("argo-workflows needs a subcommand: create")


def handle_create(args: argparse.Namespace, ctx: CliContext) -> int:
    from headwater.cli.deploy_options import announce, prepare, record
    from headwater.plugins.argo.workflow_template import compile_resources
    from headwater.runtime.launch import save_code_package

    dep, is_new = prepare(ctx, args, TARGET, NAME_CHARS)
    stores = ctx.stores()
    package = save_code_package(stores.datastore, ctx.flow_cls, ctx.package_suffixes)
    if package is None:
        raise CommandLineError(
            "argo-workflows create needs the flow in a file (its pods run the code package)"
        )
    resources = compile_resources(dep, package, os.environ)
    listing = {"apiVersion": "v1", "kind": "List", "items": resources}
    text = json.dumps(listing, indent=2)
    kinds = ", ".join(f"{r['kind']} {r['metadata']['name']}" for r in resources)
    if args.only_json:
        ctx.out.echo(text)
    elif args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as ex:
            raise CommandLineError(
                f"cannot write {args.output} ({ex.strerror}): pass a writable path"
            ) from None
    else:
        _apply(text)
    record(
        ctx,
        dep,
        TARGET,
        {
            "resources": kinds,
            "code_package": package,
            "namespace": resources[0]["metadata"]["namespace"],
            "argo_name": resources[0]["metadata"]["name"],
        },
        attribute_file=args.deployer_attribute_file,
    )
    if args.only_json:
        return 0
    where = f"written to {args.output}" if args.output else "applied with kubectl"
    announce(ctx, dep, "the Argo WorkflowTemplate", is_new, [f"resources: {kinds} ({where})"])
    return 0


def _apply(text: str) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise CommandLineError(
            "kubectl is not installed here: pass --only-json or --output FILE and apply the "
            "resources with kubectl where it is"
        )
    proc = subprocess.run(
        [kubectl, "apply", "-f", "-"], input=text, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["no output"]
        raise CommandLineError(f"kubectl apply failed: {lines[-1]}")
