"""``resume [STEP]``: a new run that clones the origin run's finished tasks and runs the rest."""

from __future__ import annotations

import argparse
import sys

from headwater import config
from headwater.cli.cmd_run import (
    ResumeFrom,
    _validate,
    add_run_options,
    launch_run,
    script_name,
)
from headwater.cli.context import CliContext
from headwater.exceptions import CommandLineError, ObjectNotFound
from headwater.metadata_store.records import RunStatus


def register(sub: argparse._SubParsersAction, flow_cls: type) -> None:
    p = sub.add_parser(
        "resume",
        help="run again from a failed (or given) step, reusing what the origin run finished",
        allow_abbrev=False,
    )
    p.add_argument(
        "step_to_rerun",
        nargs="?",
        metavar="STEP",
        help="run this step and everything after it again (default: what failed)",
    )
    p.add_argument(
        "--origin-run-id",
        default=None,
        metavar="RUN",
        help="the run to resume (default: your latest run of this flow)",
    )
    add_run_options(p)
    p.set_defaults(handler=handle_resume)


def handle_resume(args: argparse.Namespace, ctx: CliContext) -> int:
    from headwater.core.tags import check_user_tag_count, validate_user_tags

    step = args.step_to_rerun
    if step is not None and step not in ctx.graph.nodes:
        from headwater.core.suggest import did_you_mean

        steps = ", ".join(ctx.graph.nodes)
        raise CommandLineError(
            f"{ctx.flow_name} has no step '{step}' to resume from: "
            + (did_you_mean(step, ctx.graph.nodes) or f"pick one of {steps}")
        )
    tags = validate_user_tags(args.tag)
    check_user_tag_count(tags)
    user = config.username()
    stores = ctx.stores()
    md = stores.metadata
    if args.origin_run_id is not None:
        origin = md.get_run(ctx.flow_name, args.origin_run_id)
        if origin is None:
            raise ObjectNotFound(
                f"run {args.origin_run_id} of {ctx.flow_name} not found: pass an existing run "
                "to --origin-run-id, or leave it out to resume your latest run"
            )
    else:
        origin = md.latest_run(ctx.flow_name, tags=[f"user:{user}"])
        if origin is None:
            raise ObjectNotFound(
                f"{ctx.flow_name} has no run by user {user} to resume: run it first, or pass "
                "--origin-run-id"
            )
    from headwater.core.ids import params_path

    if not stores.datastore.has_index(params_path(ctx.flow_name, origin.run_id)):
        raise CommandLineError(
            f"run {origin.run_id} of {ctx.flow_name} stopped before its first task started, so "
            "there is nothing to resume: start a new run with `run`"
        )
    if ctx.config_files or ctx.config_texts:
        raise CommandLineError(
            f"resume keeps the configs of the origin run {origin.run_id}: leave out --config "
            "and --config-value, or start a new run with `run` to use other configs"
        )
    if "headwater.core.configs" in sys.modules:  # else the flow has no Config
        from headwater.runtime.launch import load_run_configs

        # Decorators and parameter defaults see the origin's configs, as its tasks did.
        ctx.resolve_configs(load_run_configs(stores.datastore, ctx.flow_name, origin.run_id))
    elif ctx.decospecs or "headwater.core.user_decorators" in sys.modules:
        ctx.resolve_configs({})  # mutators and custom decorators
    _validate(ctx)
    if step is None and origin.status is RunStatus.COMPLETED:
        script = script_name(ctx)
        ctx.out.info(
            f"Run {origin.run_id} of {ctx.flow_name} completed: nothing failed, so nothing runs "
            f"again and every task is cloned (to run a step again: {script} resume STEP "
            f"--origin-run-id {origin.run_id})"
        )
    rerun = frozenset({step}) if step else frozenset()
    return launch_run(ctx, args, None, tags, user, ResumeFrom(origin.run_id, rerun))
