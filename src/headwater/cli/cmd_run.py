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
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.runtime.spec import SpillDir


def register(sub: argparse._SubParsersAction, flow_cls: type) -> None:
    p = sub.add_parser("run", help="run the flow", allow_abbrev=False)
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
    add_run_options(p)
    p.set_defaults(handler=handle_run)

    s = sub.add_parser("step", help="run one task attempt (internal; used by executors)")
    s.add_argument("step_name")
    s.add_argument("--spec", required=True, help="the task spec (JSON, or @file)")
    s.add_argument("--result-fd", type=int, required=True)
    s.set_defaults(handler=handle_step)


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
        choices=["fork", "subprocess"],
        default="fork",
        help="fork tasks from a warm zygote (default) or start each as a new process",
    )


class TerminalEvents:
    """Prints task progress and output lines prefixed with [run/step/task]."""

    def __init__(self, out: Output) -> None:
        self.out = out

    @staticmethod
    def prefix(spec: Any) -> str:
        return f"[{spec.run_id}/{spec.step}/{spec.task_id}]"

    def task_started(self, spec: Any) -> None:
        retry = f" (retry {spec.attempt})" if spec.attempt else ""
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
        self.out.info(f"{self.prefix(spec)} Retrying {when} (attempt {spec.attempt + 2}).")


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
    given = {
        p.name: getattr(args, f"param__{attr}") for attr, p in flow_parameters(ctx.flow_cls).items()
    }
    values = resolve_parameters(ctx.flow_cls, given, user, configs=ctx.configs)
    return launch_run(ctx, args, values, tags, user)


def _set_launch_extras(ctx: CliContext, user: str) -> None:
    from headwater.core.current import set_launch_extras
    from headwater.core.flow_decorators import flow_current_extras, flow_run_tags

    tags = frozenset(flow_run_tags(ctx.flow_cls, ctx.options, user))
    set_launch_extras(flow_current_extras(ctx.flow_cls, tags))


def _executor(ctx: CliContext, kind: str, spill_dir: SpillDir) -> Any:
    if kind == "subprocess":
        from headwater.runtime.subprocess_executor import SubprocessExecutor

        module = sys.modules.get(ctx.flow_cls.__module__)
        script = getattr(module, "__file__", None) or sys.argv[0]
        return SubprocessExecutor(script, spill_dir)
    from headwater.runtime.zygote import ForkExecutor

    return ForkExecutor(ctx.flow_cls, ctx.graph, spill_dir)


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
    executor = _executor(ctx, args.executor, spill_dir)
    # Fork the zygote first: the flow module is imported and no run state exists yet, and the
    # zygote's warm-up (importing what tasks need) then overlaps everything below.
    executor.start()
    try:
        from headwater.core.flow_decorators import flow_run_tags
        from headwater.core.ids import params_path
        from headwater.runtime.launch import save_run_inputs, system_tags
        from headwater.runtime.scheduler import RunOptions, Scheduler

        root = ctx.root_for_run()
        ds = ctx.datastore(root)
        md = ctx.metadata(root)
        origin = resume.origin_run_id if resume else None
        sys_tags = system_tags(user) + flow_run_tags(ctx.flow_cls, ctx.options, user)
        run = md.create_run(
            ctx.flow_name, user, tags=tags, system_tags=sys_tags, origin_run_id=origin, held=True
        )
        if args.run_id_file:
            _write_run_id(args.run_id_file, run.run_id)
        cloner = None
        if resume is not None:
            ds.copy_index(
                params_path(ctx.flow_name, resume.origin_run_id),
                params_path(ctx.flow_name, run.run_id),
            )
            from headwater.runtime.resume import Cloner

            cloner = Cloner(
                ctx.flow_name, run.run_id, resume.origin_run_id, ds, md, resume.rerun_steps
            )
            ctx.out.info(
                f"Resuming {ctx.flow_name} run {resume.origin_run_id} as run {run.run_id} "
                f"(user {user}, up to {args.max_workers} tasks at once) in {root}"
            )
        else:
            save_run_inputs(
                ds, ctx.flow_cls, run.run_id, values or {}, graph=ctx.graph, configs=ctx.configs
            )
            ctx.out.info(
                f"Running {ctx.flow_name} as run {run.run_id} (user {user}, "
                f"up to {args.max_workers} tasks at once) in {root}"
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
        summary = scheduler.run()
    finally:
        executor.close()
        spill_dir.remove()
    print_summary(ctx, summary)
    return 0 if summary.status.value == "completed" else 1


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


def print_summary(ctx: CliContext, summary: Any) -> None:
    out = ctx.out
    script = os.path.basename(
        getattr(sys.modules.get(ctx.flow_cls.__module__), "__file__", None) or "flow.py"
    )
    took = f"{summary.tasks_run} tasks in {summary.wall_s:.2f} s"
    if summary.tasks_cloned:
        took = (
            f"{summary.tasks_run} tasks run and {summary.tasks_cloned} cloned in "
            f"{summary.wall_s:.2f} s"
        )
    if summary.status.value == "completed":
        out.success(f"Run {summary.run_id} of {summary.flow} completed: {took}.")
        out.info(
            f"  inspect: python {script} dump {summary.run_id}/end"
            f"   or in Python: Run('{summary.flow}/{summary.run_id}').data"
        )
        return
    if summary.status.value == "interrupted":
        out.error(f"run {summary.run_id} of {summary.flow} was interrupted after {took}")
        out.info(f"  resume: python {script} resume --origin-run-id {summary.run_id}")
        return
    if summary.failed:
        pathspec, headline = summary.failed[0]
        step_task = "/".join(pathspec.split("/")[1:])
        out.error(f"run {summary.run_id} of {summary.flow} failed: task {step_task}: {headline}")
        out.info(f"  logs:   python {script} logs {step_task}")
        out.info(f"  resume: python {script} resume --origin-run-id {summary.run_id}")
        if len(summary.failed) > 1:
            out.info(f"  ({len(summary.failed) - 1} more tasks failed)")
    else:
        out.error(f"run {summary.run_id} of {summary.flow} did not reach its end step")


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


def handle_step(args: argparse.Namespace, ctx: CliContext) -> int:
    from headwater.runtime.spec import TaskSpec
    from headwater.runtime.task import run_attempt

    spec = TaskSpec.decode(args.spec.encode())
    if spec.step != args.step_name:
        raise CommandLineError(f"step {args.step_name!r} does not match the spec's {spec.step!r}")
    ctx.decospecs = list(spec.decospecs)  # --with custom decorators attach to the steps
    if "headwater.core.configs" in sys.modules:  # the flow may have configs: use the run's
        from headwater.core.ids import AttemptPath
        from headwater.datastore.local import LocalDatastore
        from headwater.runtime.launch import saved_configs

        ds = LocalDatastore(spec.root)
        index = ds.read_index(AttemptPath.from_token(spec.flow, spec.params))
        ctx.resolve_configs(saved_configs(ds, spec.flow, index))
    elif ctx.decospecs or "headwater.core.user_decorators" in sys.modules:
        ctx.resolve_configs({})  # mutators and custom decorators
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.reconfigure(line_buffering=True)
    return run_attempt(spec, ctx.flow_cls, ctx.graph, args.result_fd)
