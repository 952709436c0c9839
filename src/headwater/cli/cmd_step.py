"""``step`` (run one task attempt) and ``init`` (record a run's parameters): the commands a
task runs with, wherever it runs.

``step`` has three forms:

- ``step STEP --spec SPEC --result-fd N``: the runtime's subprocess executor; the runtime
  reads the result from the fd and keeps the records.
- ``step STEP --spec SPEC``: a remote executor (a Ray worker, a pod) started by the runtime;
  the task supervises itself and writes its result into the datastore, where the runtime
  reads it; the runtime keeps the records.
- ``step STEP --run-id R [--task-id T] [--input-paths P] [--split-index I] [--retry-count K]``:
  no runtime at all (a production scheduler): the task plans itself from the stores, records
  its own attempt and outcome, and exits 0 when it succeeded, 1 when it failed and may be
  retried, 202 when retrying cannot help.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from headwater import config
from headwater.cli.context import CliContext
from headwater.exceptions import CommandLineError
from headwater.runtime.spec import NO_RETRY_EXIT_CODE

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.store import Datastore


def register(sub: argparse._SubParsersAction, flow_cls: type) -> None:
    from headwater.cli.cmd_run import add_parameter_options

    s = sub.add_parser(
        "step", help="run one task attempt (executors and schedulers run this)", allow_abbrev=False
    )
    s.add_argument("step_name", metavar="STEP")
    s.add_argument("--spec", default=None, help="the task spec from the runtime (JSON, or @file)")
    s.add_argument("--result-fd", type=int, default=None, help="write the result to this fd")
    s.add_argument("--run-id", default=None, help="the run (made by `init`); no runtime needed")
    s.add_argument("--task-id", default=None, help="the task's id (default: derived)")
    s.add_argument(
        "--input-paths",
        default="",
        metavar="PATHS",
        help="the tasks this one follows: RUN/STEP/TASK, comma-separated",
    )
    s.add_argument("--split-index", type=int, default=None, help="which foreach split this task is")
    s.add_argument("--retry-count", type=int, default=0, help="the attempt number (0, 1, ...)")
    s.add_argument(
        "--max-user-code-retries",
        type=int,
        default=None,
        help="attempts after the first that the scheduler makes (default: the step's @retry)",
    )
    s.add_argument("--namespace", default=None, help="namespace of client calls in the task")
    s.add_argument(
        "--main-ip",
        default=None,
        metavar="ADDRESS",
        help="@parallel: the address of the gang's control task (default: the spec's, else "
        "127.0.0.1)",
    )
    s.add_argument("--max-num-splits", type=int, default=100)
    s.add_argument(
        "--output-dir",
        default=None,
        metavar="DIR",
        help="with --run-id: write what a scheduler needs next (task id, splits, branch) here",
    )
    s.set_defaults(handler=handle_step)

    i = sub.add_parser(
        "init", help="record a run's parameters before its first step (for schedulers)"
    )
    i.add_argument("--run-id", required=True, help="the run's id, as the scheduler names it")
    i.add_argument("--task-id", default=None, help="accepted for Metaflow compatibility")
    i.add_argument("--tag", action="append", default=[], metavar="TAG", help="a user tag")
    i.add_argument(
        "--runtime",
        default="scheduled",
        metavar="NAME",
        help="what runs the run, for its system tag runtime:NAME (default: scheduled)",
    )
    i.add_argument(
        "--production-token",
        default=None,
        metavar="TOKEN",
        help="the deployment's production token, for its system tag production:TOKEN",
    )
    add_parameter_options(i, flow_cls)
    i.set_defaults(handler=handle_init)


def _line_buffered() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # a replaced stream may lack it
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(line_buffering=True)


def handle_step(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.spec is not None:
        return _step_from_spec(args, ctx)
    if args.run_id is None:
        raise CommandLineError(
            "step needs --run-id (and --input-paths for any step but start), or --spec"
        )
    return _scheduled_step(args, ctx)


def _use_run_configs(ctx: CliContext, ds: Datastore, flow: str, params_token: str) -> None:
    """Decorators and defaults see the configs the run was started with (mutators and custom
    decorators apply then too)."""
    if "headwater.core.configs" in sys.modules:  # else the flow has no Config
        from headwater.core.ids import AttemptPath
        from headwater.runtime.launch import saved_configs

        index = ds.read_index(AttemptPath.from_token(flow, params_token))
        ctx.resolve_configs(saved_configs(ds, flow, index))
    elif ctx.decospecs or "headwater.core.user_decorators" in sys.modules:
        ctx.resolve_configs({})


def _step_from_spec(args: argparse.Namespace, ctx: CliContext) -> int:
    from headwater.runtime.spec import TaskSpec
    from headwater.runtime.task import open_task_datastore, run_attempt

    spec = TaskSpec.decode(args.spec.encode())
    if args.main_ip:
        spec = spec._replace(main_ip=args.main_ip)
    if spec.step != args.step_name:
        raise CommandLineError(f"step {args.step_name!r} does not match the spec's {spec.step!r}")
    ctx.decospecs = list(spec.decospecs)  # --with custom decorators attach to the steps
    ds = open_task_datastore(spec)
    _use_run_configs(ctx, ds, spec.flow, spec.params)
    if args.result_fd is not None:
        _line_buffered()
        return run_attempt(spec, ctx.flow_cls, ctx.graph, args.result_fd)
    from headwater.cli.cmd_run import step_policies
    from headwater.runtime.supervise import supervise

    policy = step_policies(ctx)[spec.step]
    result = supervise(spec, ctx.flow_cls, ctx.graph, ds, timeout_s=policy.timeout_s)
    return _exit_code(result)


def _exit_code(result: Any) -> int:
    if result.ok:
        return 0
    return 1 if result.retryable else NO_RETRY_EXIT_CODE


def _scheduled_step(args: argparse.Namespace, ctx: CliContext) -> int:
    from headwater.cli.cmd_run import step_policies
    from headwater.core.ids import params_path
    from headwater.runtime.standalone import (
        ScheduledTask,
        parse_input_paths,
        plan,
        run_planned,
    )

    stores = ctx.stores()
    _use_run_configs(
        ctx, stores.datastore, ctx.flow_name, params_path(ctx.flow_name, args.run_id).to_token()
    )
    task = ScheduledTask(
        run_id=args.run_id,
        step=args.step_name,
        input_paths=parse_input_paths(args.input_paths, args.run_id),
        task_id=args.task_id,
        split_index=args.split_index,
        retry_count=args.retry_count,
        max_user_code_retries=args.max_user_code_retries,
        namespace=args.namespace,
        max_num_splits=args.max_num_splits,
        user=config.username(),
    )
    policy = step_policies(ctx).get(args.step_name)
    if policy is None:
        raise CommandLineError(
            f"{ctx.flow_name} has no step {args.step_name!r}: pick one of "
            f"{', '.join(ctx.graph.nodes)}"
        )
    from headwater.cli.cmd_run import export_settings

    export_settings(stores)
    spec = plan(ctx.flow_name, ctx.graph, stores, task, policy, ctx.decospecs)
    if args.main_ip:
        spec = spec._replace(main_ip=args.main_ip)
    ctx.out.info(f"[{spec.run_id}/{spec.step}/{spec.task_id}] Task is starting.")
    result = run_planned(spec, ctx.flow_cls, ctx.graph, stores, policy)
    if args.output_dir:
        from headwater.runtime.task_outputs import write_task_outputs

        write_task_outputs(args.output_dir, spec, result)
    if result.ok:
        ctx.out.info(f"[{spec.run_id}/{spec.step}/{spec.task_id}] Task finished successfully.")
    else:
        ctx.out.error(f"task {spec.run_id}/{spec.step}/{spec.task_id}: {result.exception}")
    return _exit_code(result)


def handle_init(args: argparse.Namespace, ctx: CliContext) -> int:
    """Create the run ``--run-id`` (once: again is a no-op) with its parameters and code."""
    from headwater.cli.cmd_run import _validate, given_parameters
    from headwater.core.flow_decorators import flow_run_tags
    from headwater.core.ids import params_path
    from headwater.core.tags import check_user_tag_count, validate_user_tags
    from headwater.runtime.launch import (
        resolve_parameters,
        save_code_package,
        save_run_inputs,
        system_tags,
    )

    ctx.resolve_configs()
    _validate(ctx)
    tags = validate_user_tags(args.tag)
    check_user_tag_count(tags)
    user = config.username()
    stores = ctx.stores(for_run=True)
    ds, md = stores.datastore, stores.metadata
    if ds.has_index(params_path(ctx.flow_name, args.run_id)):
        ctx.out.info(f"Run {args.run_id} of {ctx.flow_name} is initialized already.")
        return 0
    values = resolve_parameters(ctx.flow_cls, given_parameters(args, ctx.flow_cls), user)
    package = save_code_package(ds, ctx.flow_cls, ctx.package_suffixes)
    _check_tag_value("--runtime", args.runtime)
    sys_tags = system_tags(user, runtime=args.runtime) + flow_run_tags(
        ctx.flow_cls, ctx.options, user
    )
    if args.production_token:
        _check_tag_value("--production-token", args.production_token)
        sys_tags.append(f"production:{args.production_token}")
    md.create_run(ctx.flow_name, user, tags=tags, system_tags=sys_tags, run_id=args.run_id)
    save_run_inputs(
        ds,
        ctx.flow_cls,
        args.run_id,
        values,
        graph=ctx.graph,
        configs=ctx.configs,
        code_package=package,
    )
    ctx.out.info(f"Initialized run {args.run_id} of {ctx.flow_name} in {stores.describe()}.")
    return 0


def _check_tag_value(option: str, value: str) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,200}", value or ""):
        raise CommandLineError(
            f"{option} {value!r}: use letters, digits and . _ : - only (at most 200)"
        )
