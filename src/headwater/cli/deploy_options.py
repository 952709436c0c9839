"""What ``airflow create`` and ``argo-workflows create`` share: their options, and the
:class:`~headwater.plugins.deploy.deployment.Deployment` they compile, read from the command."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from headwater import config
from headwater.cli.context import CliContext

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.plugins.deploy.deployment import Deployment


def add_deploy_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--name",
        default=None,
        help=f"the {what}'s name (default: the flow's, or PROJECT.BRANCH.FLOW with @project)",
    )
    p.add_argument(
        "--max-workers",
        type=int,
        default=100,
        metavar="N",
        help="run at most N tasks of a run at once (default: 100)",
    )
    p.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="TAG",
        help="a user tag of every run of the deployment (repeatable)",
    )
    p.add_argument(
        "--deployer-attribute-file",
        default=None,
        metavar="PATH",
        help="write the deployment's name and token to PATH as JSON (the Deployer API does)",
    )
    p.add_argument(
        "--new-token",
        action="store_true",
        help="make a new production token (runs after it are in a new namespace)",
    )


def top_level_args(ctx: CliContext) -> list[str]:
    """The top-level options every task's command repeats: @project's branch, --with,
    --package-suffixes, and the configs as they are now."""
    from headwater.core.flow_decorators import flow_decorators

    args: list[str] = []
    for deco in flow_decorators(ctx.flow_cls):
        for opt in deco.options:
            value = ctx.options.get(opt.dest)
            if opt.is_flag:
                if value:
                    args.append(f"--{opt.name}")
            elif value not in (None, opt.default):
                args += [f"--{opt.name}", str(value)]
    for spec in ctx.decospecs:
        args += ["--with", spec]
    if ctx.package_suffixes:
        args += ["--package-suffixes", ",".join(ctx.package_suffixes)]
    for name, path in ctx.config_files.items():
        with open(path, encoding="utf-8") as fh:
            args += ["--config-value", name, fh.read()]
    for name, text in ctx.config_texts.items():
        args += ["--config-value", name, text]
    return args


def prepare(
    ctx: CliContext,
    args: argparse.Namespace,
    target: str,
    name_chars: str,
    python: str | None = None,
) -> tuple[Deployment, bool]:
    """The deployment of the flow for ``target``, and whether its production token is new."""
    from headwater.cli.cmd_run import _validate, step_policies
    from headwater.core.flow_decorators import flow_run_tags
    from headwater.core.tags import check_user_tag_count, validate_user_tags
    from headwater.plugins.deploy.deployment import build_deployment, deployed_name
    from headwater.plugins.deploy.tokens import production_token
    from headwater.plugins.deploy.triggers import flow_triggers

    ctx.resolve_configs()
    _validate(ctx)
    tags = validate_user_tags(args.tag)
    check_user_tag_count(tags)
    user = config.username()
    run_tags = flow_run_tags(ctx.flow_cls, ctx.options, user)
    name = deployed_name(ctx.flow_name, run_tags, args.name, name_chars)
    stores = ctx.stores(for_run=True)
    token, is_new = production_token(
        stores.datastore, ctx.flow_name, target, name, new_token=args.new_token
    )
    decorators = {step: ctx.step_decorators(step) for step in ctx.graph.nodes}
    dep = build_deployment(
        flow_cls=ctx.flow_cls,
        graph=ctx.graph,
        decorators=decorators,
        policies=step_policies(ctx),
        run_tags=run_tags,
        settings=stores.settings,
        local_root=stores.local_root,
        user=user,
        top_args=top_level_args(ctx),
        given_name=args.name,
        name_chars=name_chars,
        python=python,
        tags=tags,
        production_token=token,
        max_workers=args.max_workers,
        triggers=flow_triggers(ctx.flow_cls, target, run_tags),
    )
    return dep, is_new


def record(
    ctx: CliContext,
    dep: Deployment,
    target: str,
    extra: dict[str, Any],
    attribute_file: str | None = None,
) -> None:
    """Remember the deployment (its token above all) in the datastore."""
    import time

    from headwater.plugins.deploy.tokens import save_deployment

    rec = {
        "target": target,
        "name": dep.name,
        "flow": dep.flow,
        "production_token": dep.production_token,
        "deployed_by": dep.user,
        "deployed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **extra,
    }
    save_deployment(ctx.stores().datastore, dep.flow, target, dep.name, rec)
    if attribute_file:
        import json

        tmp = f"{attribute_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(rec, fh)
        os.replace(tmp, attribute_file)


def announce(
    ctx: CliContext, dep: Deployment, what: str, is_new: bool, lines: Sequence[str]
) -> None:
    out = ctx.out
    out.success(f"Deployed {dep.flow} as {what} {dep.name}.")
    token = "new production token" if is_new else "production token"
    out.info(f"  {token}: {dep.production_token}")
    out.info(f"  its runs: namespace('production:{dep.production_token}')")
    for line in lines:
        out.info(f"  {line}")
