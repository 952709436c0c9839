"""``run`` (start a run) and ``step`` (run one task attempt; used by the subprocess executor)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from headwater import config
from headwater.cli.context import CliContext
from headwater.cli.output import Output
from headwater.core.parameters import flow_parameters
from headwater.exceptions import CommandLineError, InvalidFlow
from headwater.metadata_store.records import RunStatus
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.metadata_store.records import RunRecord
    from headwater.runtime.executor import Executor
    from headwater.runtime.scheduler import Scheduler
    from headwater.runtime.spec import SpillDir
    from headwater.stores import Stores


def register(sub: argparse._SubParsersAction, flow_cls: type) -> None:
    p = sub.add_parser("run", help="run the flow", allow_abbrev=False)
    add_parameter_options(p, flow_cls)
    add_run_options(p)
    p.set_defaults(handler=handle_run)


def add_parameter_options(p: argparse.ArgumentParser, flow_cls: type) -> None:
    """``--<name> VALUE`` for each of the flow's parameters."""
    params = p.add_argument_group("flow parameters")
    for attr, param in flow_parameters(flow_cls).items():
        help_text = param.help or ""
        if param.show_default and param.default is not None and not callable(param.default):
            help_text += f" (default: {param.default!r})"
        kwargs: dict[str, Any] = {"dest": f"param__{attr}", "default": None, "help": help_text}
        if param.is_flag:
            kwargs.update(action="store_const", const="true")
        else:
            kwargs["metavar"] = param.type_name.upper()
        params.add_argument(f"--{param.name}", **kwargs)


def given_parameters(args: argparse.Namespace, flow_cls: type) -> dict[str, str | None]:
    """The parameter values given on the command line, by parameter name."""
    return {
        p.name: getattr(args, f"param__{attr}") for attr, p in flow_parameters(flow_cls).items()
    }


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="TAG",
        help="add a user tag to the run (repeatable)",
    )
    p.add_argument(
        "--max-workers",
        type=int,
        default=16,
        metavar="N",
        help="run at most N tasks at once (default: 16)",
    )
    p.add_argument(
        "--max-num-splits",
        type=int,
        default=100,
        metavar="N",
        help="fail a foreach that would start more than N tasks (default: 100)",
    )
    p.add_argument(
        "--max-log-size",
        type=int,
        default=None,
        metavar="MB",
        help="accepted for Metaflow compatibility",
    )
    p.add_argument(
        "--run-id-file",
        default=None,
        metavar="PATH",
        help="write the run id to PATH before the first task starts",
    )
    p.add_argument(
        "--namespace",
        default=None,
        metavar="NS",
        help="namespace of client calls made inside the tasks (default: user:<you>; '' for "
        "every run)",
    )
    p.add_argument(
        "--executor",
        default="fork",
        metavar="NAME",
        help="what runs the tasks: fork (the default: forks of a warm process), subprocess (a "
        "new process each), ray (a Ray cluster), kubernetes (a Job each), or an installed "
        "executor plugin",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDRESS",
        help="the Ray cluster of steps that run on Ray (default: HEADWATER_RAY_ADDRESS, else "
        "auto: the cluster this machine belongs to)",
    )


class TerminalEvents:
    """Prints task progress and output lines prefixed with [run/step/task].

    Attempts are numbered from 0 everywhere, as ``logs --attempt N`` and the client number
    them: the first retry is attempt 1.
    """

    def __init__(self, out: Output) -> None:
        self.out = out

    @staticmethod
    def prefix(spec: Any) -> str:
        return f"[{spec.run_id}/{spec.step}/{spec.task_id}]"

    def task_started(self, spec: Any) -> None:
        retry = f" (attempt {spec.attempt})" if spec.attempt else ""
        if spec.fallback is not None:
            retry = f" (attempt {spec.attempt}: @catch records the failure)"
        self.out.info(f"{self.prefix(spec)} Task is starting{retry}.")

    def task_output(self, spec: Any, stream: str, line: str) -> None:
        self.out.task_line(self.prefix(spec), line, stream)

    def task_finished(self, spec: Any, result: Any) -> None:
        if result.ok and result.caught:
            self.out.info(
                f"{self.prefix(spec)} Task failed ({result.caught}); @catch kept it in "
                f"self.{spec.catch_var} and the flow goes on."
            )
        elif result.ok:
            self.out.info(f"{self.prefix(spec)} Task finished successfully.")
        else:
            self.out.info(f"{self.prefix(spec)} Task failed: {result.exception}")

    def task_cloned(self, run_id: str, step: str, task_id: str, origin: str) -> None:
        self.out.info(f"[{run_id}/{step}/{task_id}] Cloned from {origin}.")

    def task_retrying(self, spec: Any, wait_s: float) -> None:
        when = f"in {wait_s:g} s" if wait_s else "now"
        self.out.info(f"{self.prefix(spec)} Retrying {when} (attempt {spec.attempt + 1}).")


def _validate(ctx: CliContext) -> None:
    from headwater.cli.cmd_graph import check_flow

    problems = check_flow(ctx)
    if problems:
        first = problems[0]
        more = (
            f" ({len(problems) - 1} more problems: run 'check' to see all)"
            if len(problems) > 1
            else ""
        )
        raise InvalidFlow(f"{first}{more}", step=getattr(first, "step", None))


def handle_run(args: argparse.Namespace, ctx: CliContext) -> int:
    from headwater.core.tags import check_user_tag_count, validate_user_tags
    from headwater.runtime.launch import resolve_parameters

    if args.max_workers < 1:
        raise CommandLineError("--max-workers must be at least 1")
    if args.max_num_splits < 1:
        raise CommandLineError("--max-num-splits must be at least 1")
    ctx.resolve_configs()  # before decorators and parameter defaults are used
    _validate(ctx)
    tags = validate_user_tags(args.tag)
    check_user_tag_count(tags)
    user = config.username()
    _set_launch_extras(ctx, user)  # callable Parameter defaults may read current.project_name
    given = given_parameters(args, ctx.flow_cls)
    values = resolve_parameters(ctx.flow_cls, given, user, configs=ctx.configs)
    return launch_run(ctx, args, values, tags, user)


def _set_launch_extras(ctx: CliContext, user: str) -> None:
    from headwater.core.current import set_launch_extras
    from headwater.core.flow_decorators import flow_current_extras, flow_run_tags

    tags = frozenset(flow_run_tags(ctx.flow_cls, ctx.options, user))
    set_launch_extras(flow_current_extras(ctx.flow_cls, tags))


def _executor(
    ctx: CliContext, default: str, spill_dir: SpillDir, options: dict[str, Any] | None = None
) -> Any:
    """The executor of the run: ``default`` (--executor) for every step, unless a step's
    decorators ask for another (then a router sends each task to its step's). ``options``:
    executor options from the command line (``--ray-address``)."""
    from headwater import registry
    from headwater.runtime.executor import ExecutorContext

    module = sys.modules.get(ctx.flow_cls.__module__)
    script = getattr(module, "__file__", None) or sys.argv[0]
    context = ExecutorContext(
        ctx.flow_cls, ctx.graph, script, spill_dir, ctx.settings, options or {}
    )
    by_step = {}
    for name in ctx.graph.nodes:
        for deco in ctx.step_decorators(name):
            wanted = deco.executor_name()
            if wanted:
                by_step[name] = wanted
    names = set(by_step.values())
    if len(by_step) < len(ctx.graph.nodes):  # some step runs on the default executor
        names.add(default)
    made = {
        name: registry.load("executors", name, "executor").from_context(context)
        for name in sorted(names)
    }
    if len(made) == 1:
        return next(iter(made.values()))
    from headwater.runtime.step_router import StepRouter

    return StepRouter(made, default, by_step)


class ResumeFrom(Record):
    """What `resume` adds to a launch: the run to clone from and the steps to run again."""

    origin_run_id: str
    rerun_steps: frozenset[str]


def launch_run(
    ctx: CliContext,
    args: argparse.Namespace,
    values: dict[str, Any] | None,
    tags: list[str],
    user: str,
    resume: ResumeFrom | None = None,
) -> int:
    """Start a run (a resume when ``resume`` is given: parameters come from the origin)."""
    from headwater.runtime.spec import SpillDir

    spill_dir = SpillDir()
    stores = ctx.stores(for_run=True)  # resolved, nothing connected yet
    export_settings(stores)
    executor = _executor(
        ctx, args.executor, spill_dir, {"ray_address": getattr(args, "ray_address", None)}
    )
    # Fork the zygote first: the flow module is imported and no run state exists yet, and the
    # zygote's warm-up (importing what tasks need) then overlaps everything below.
    executor.start()
    run: Any = None
    try:
        from headwater.runtime.scheduler import RunSummary

        try:
            run, scheduler = _prepare(ctx, args, stores, executor, values, tags, user, resume)
            summary = scheduler.run()
        except KeyboardInterrupt:
            if run is None:
                raise
            # Ctrl-C after the run was recorded, before its scheduler took over signals.

            stores.metadata.set_run_status(ctx.flow_name, run.run_id, RunStatus.INTERRUPTED)
            summary = RunSummary(ctx.flow_name, run.run_id, RunStatus.INTERRUPTED, 0, 0.0, ())
    finally:
        executor.close()
        spill_dir.remove()
    print_summary(ctx, summary)
    return 0 if summary.status is RunStatus.COMPLETED else 1


def export_settings(stores: Stores) -> None:
    """Put the command's store settings in the environment, so that its tasks (and the client
    calls they make) find the same stores."""
    os.environ.update(stores.settings.to_environ())
    if stores.local_root is not None:
        os.environ["HEADWATER_ROOT"] = stores.local_root


def _prepare(
    ctx: CliContext,
    args: argparse.Namespace,
    stores: Stores,
    executor: Executor,
    values: dict[str, Any] | None,
    tags: list[str],
    user: str,
    resume: ResumeFrom | None,
) -> tuple[RunRecord, Scheduler]:
    """Record the run and what its tasks read (parameters, code); its scheduler."""
    from headwater.core.flow_decorators import flow_run_tags
    from headwater.runtime.launch import (
        copy_run_inputs,
        save_code_package,
        save_run_inputs,
        system_tags,
    )
    from headwater.runtime.scheduler import RunOptions, Scheduler

    ds, md = stores.datastore, stores.metadata
    origin = resume.origin_run_id if resume else None
    sys_tags = system_tags(user) + flow_run_tags(ctx.flow_cls, ctx.options, user)
    package = save_code_package(ds, ctx.flow_cls, ctx.package_suffixes)
    run = md.create_run(
        ctx.flow_name, user, tags=tags, system_tags=sys_tags, origin_run_id=origin, held=True
    )
    if args.run_id_file:
        _write_run_id(args.run_id_file, run.run_id)
    cloner = None
    if resume is not None:
        copy_run_inputs(ds, ctx.flow_name, resume.origin_run_id, run.run_id, package)
        from headwater.runtime.resume import Cloner

        cloner = Cloner(ctx.flow_name, run.run_id, resume.origin_run_id, ds, md, resume.rerun_steps)
        ctx.out.info(
            f"Resuming {ctx.flow_name} run {resume.origin_run_id} as run {run.run_id} "
            f"(user {user}, up to {args.max_workers} tasks at once) in {stores.describe()}"
        )
    else:
        save_run_inputs(
            ds,
            ctx.flow_cls,
            run.run_id,
            values or {},
            graph=ctx.graph,
            configs=ctx.configs,
            code_package=package,
        )
        ctx.out.info(
            f"Running {ctx.flow_name} as run {run.run_id} (user {user}, "
            f"up to {args.max_workers} tasks at once) in {stores.describe()}"
        )
    scheduler = Scheduler(
        flow=ctx.flow_name,
        run_id=run.run_id,
        graph=ctx.graph,
        datastore=ds,
        metadata=md,
        executor=executor,
        events=TerminalEvents(ctx.out),
        options=RunOptions(
            max_workers=args.max_workers,
            max_num_splits=args.max_num_splits,
            user=user,
            tags=tuple(run.tags) + tuple(run.system_tags),
            namespace=args.namespace,
            policies=step_policies(ctx),
            decospecs=tuple(ctx.decospecs),
            origin_run_id=origin,
        ),
        cloner=cloner,
    )
    return run, scheduler


def step_policies(ctx: CliContext) -> dict[str, Any]:
    """Retry, timeout and catch settings of every step, from its decorators and --with."""
    from headwater.runtime.spec import StepPolicy

    policies = {}
    for name in ctx.graph.nodes:
        retries, wait, timeout, catch_var, print_exc = 0, 0.0, None, None, True
        for deco in ctx.step_decorators(name):
            retries = max(retries, deco.retries())
            wait = max(wait, deco.retry_wait_seconds())
            timeout = deco.timeout_seconds() or timeout
            if deco.catch_var():
                catch_var = deco.catch_var()
                print_exc = bool(deco.attributes.get("print_exception", True))
        policies[name] = StepPolicy(retries, wait, timeout, catch_var, print_exc)
    return policies


def script_name(ctx: CliContext) -> str:
    """How a message suggests running the flow's commands: ``python flow.py``, or what the
    flow's module names in ``__headwater_command__`` (``Rscript flow.R`` for a flow written in
    R, whose Python file is generated)."""
    module = sys.modules.get(ctx.flow_cls.__module__)
    command = getattr(module, "__headwater_command__", None)
    if isinstance(command, str) and command:
        return command
    return "python " + os.path.basename(getattr(module, "__file__", None) or "flow.py")


def print_summary(ctx: CliContext, summary: Any) -> None:
    out = ctx.out
    script = script_name(ctx)
    tasks = _count(summary.tasks_run, "task")
    retries = summary.attempts - summary.tasks_run  # retries (and @catch's records) of tasks
    if retries > 0:
        tasks += f" ({_count(retries, 'retry', 'retries')})"
    took = f"{tasks} in {summary.wall_s:.2f} s"
    if summary.tasks_cloned:
        took = f"{tasks} run and {summary.tasks_cloned} cloned in {summary.wall_s:.2f} s"
        if not summary.attempts:
            took = (
                f"nothing ran again, {_count(summary.tasks_cloned, 'task')} cloned in "
                f"{summary.wall_s:.2f} s"
            )
    if summary.status is RunStatus.COMPLETED:
        out.success(f"Run {summary.run_id} of {summary.flow} completed: {took}.")
        out.info(
            f"  inspect: {script} dump {summary.run_id}/end"
            f"   or in Python: Run('{summary.flow}/{summary.run_id}').data"
        )
        return
    if summary.status is RunStatus.INTERRUPTED:
        out.error(f"run {summary.run_id} of {summary.flow} was interrupted after {took}")
        out.info(f"  resume: {script} resume --origin-run-id {summary.run_id}")
        return
    if summary.failed:
        pathspec, headline = summary.failed[0]
        step_task = "/".join(pathspec.split("/")[1:])
        out.error(f"run {summary.run_id} of {summary.flow} failed: task {step_task}: {headline}")
        out.info(f"  logs:   {script} logs {step_task}")
        out.info(f"  resume: {script} resume --origin-run-id {summary.run_id}")
        if len(summary.failed) > 1:
            out.info(f"  ({len(summary.failed) - 1} more tasks failed)")
    else:
        out.error(f"run {summary.run_id} of {summary.flow} did not reach its end step")


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _write_run_id(path: str, run_id: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w") as fh:
            fh.write(run_id)
        os.replace(tmp, path)
    except OSError as ex:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise CommandLineError(
            f"cannot write --run-id-file {path!r} ({ex.strerror}): pass a writable path"
        ) from None
