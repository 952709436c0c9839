"""Run one task attempt: resolve inputs, run the step, persist, report a TaskResult.

The same code runs in a fork of the zygote and in a fresh ``python flow.py step`` process.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import time
from collections.abc import Callable, Mapping

from headwater import config
from headwater.core.caught import CaughtException
from headwater.core.caught import type_name as caught_type_name
from headwater.core.current import CurrentState, set_state
from headwater.core.decorators import is_custom_decospec, parse_decospec, step_decorators
from headwater.core.flow_decorators import flow_current_extras
from headwater.core.graph import FlowGraph, NodeType
from headwater.core.ids import AttemptPath
from headwater.core.splits import FrameKind, Transition, TransitionKind
from headwater.datastore.records import TaskIndex
from headwater.exceptions import DoNotRetry
from headwater.record import compile_constructors
from headwater.runtime.binding import Inputs, InputTask, StepBinding
from headwater.runtime.spec import NO_RETRY_EXIT_CODE, TaskResult, TaskSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.core.flowspec import FlowSpec
    from headwater.datastore.store import Datastore


def open_task_datastore(spec: TaskSpec) -> Datastore:
    """The datastore the task's spec names."""
    from headwater.stores import open_datastore

    return open_datastore(spec.datastore, spec.root)


def _client_object(spec: TaskSpec) -> Any:
    def make(pathspec: str) -> Any:
        from headwater import client
        from headwater.settings import load_settings

        if spec.datastore == "local" and load_settings().metadata == "local":
            client.metadata(f"local@{spec.root}")  # read the run's own store
        # else the settings the runtime exported to the environment name the run's stores
        parts = pathspec.split("/")
        cls = client.Run if len(parts) == 2 else client.Task
        return cls(pathspec, _namespace_check=False)

    return make


def _task_namespace(spec: TaskSpec) -> str | None:
    """The namespace of the task's client calls (and ``current.namespace``): ``run --namespace
    NS`` when given (``''``: every run), else ``user:<user>``."""
    if spec.namespace is not None:
        client_ns = sys.modules.get("headwater.client.namespaces")
        if client_ns is not None:  # imported before the fork: drop a namespace set at import
            client_ns.namespace(spec.namespace)
        return spec.namespace or None
    return f"user:{spec.user or config.username()}"


_GRAPH_DICTS: dict[int, Any] = {}


def _graph_dict(graph: FlowGraph) -> Any:
    key = id(graph)
    if key not in _GRAPH_DICTS:
        _GRAPH_DICTS[key] = graph.to_dict()
    return _GRAPH_DICTS[key]


_TMP_ROOT: list[str] = []  # the system's temp directory, found once


def _tmp_root() -> str:
    """Where task temp directories go: the first usable of $TMPDIR, $TEMP, $TMP, /tmp,
    /var/tmp, /usr/tmp, as tempfile.gettempdir() would choose. Found without importing
    tempfile, which imports random, whose after-fork reseed costs every forked task ~0.35
    ms of CPU and ~40 page faults here."""
    if not _TMP_ROOT:
        env = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
        for d in [*env, "/tmp", "/var/tmp", "/usr/tmp"]:
            if d and os.path.isdir(d) and os.access(d, os.W_OK | os.X_OK):
                _TMP_ROOT.append(os.path.abspath(d))
                break
        else:
            import tempfile

            _TMP_ROOT.append(tempfile.gettempdir())
    return _TMP_ROOT[0]


def warm_up(graph: FlowGraph) -> None:
    """Do once, before forking tasks, the work every task would otherwise repeat and that
    the first task cannot go without."""
    _graph_dict(graph)
    _tmp_root()
    compile_constructors()


def _round_trip(value: Any) -> None:
    from headwater.serde.blob import deserialize, serialize

    deserialize(b"".join(bytes(c) for c in serialize(value).chunks))


def _import_rarely_needed() -> None:
    import shutil  # noqa: F401 - removes current.tempdir when a step made one
    import traceback  # noqa: F401 - formats a failing step's exception

    import headwater.runtime.user_traceback  # noqa: F401 - trims it to the user's frames


def _connect_datastore() -> None:
    """Connect to the run's datastore once, here, when it needs a client (S3: importing boto3
    and building its client cost ~0.5 s), so that every task forked from here has one."""
    from headwater.settings import load_settings

    try:
        settings = load_settings()  # the runtime exported the run's settings before the fork
        if settings.datastore == "local" or not settings.datastore_root:
            return
        from headwater.stores import open_storage

        storage = open_storage(settings.datastore, settings.datastore_root, settings)
        connect = getattr(storage, "connect", None)
        if connect is not None:
            connect()
    except Exception:  # noqa: BLE001 - only a head start: a task reports the real error
        pass


# Work many tasks would otherwise repeat, in pieces of a few milliseconds that the zygote
# does one at a time until its first launch arrives (see zygote._zygote_main).
MORE_WARM_UP: tuple[Callable[[], Any], ...] = (
    _connect_datastore,  # S3 only: ~0.5 s, which the first task would spend anyway
    lambda: _round_trip(1),
    _import_rarely_needed,
    lambda: _round_trip(list(range(1000))),  # compresses: imports zstandard
    compile_constructors,  # of the records the pieces above imported
)


def execute(
    spec: TaskSpec, flow_cls: type[FlowSpec], graph: FlowGraph, ds: Datastore | None = None
) -> tuple[Transition, str | None, str | None]:
    """Run the step of ``spec``; returns its transition, the failure @catch kept (if any)
    and the attempt's artifact digest (for a far datastore, else None).

    Raises whatever the step raises; persists artifacts either way (a failed attempt keeps
    what it had, in its own index, for debugging).
    """
    ds = ds or open_task_datastore(spec)
    node = graph[spec.step]
    flow = spec.flow
    params_path = AttemptPath.from_token(flow, spec.params)
    parents = [AttemptPath.from_token(flow, token) for token in spec.inputs]
    params_index, *parent_indexes = ds.read_indexes([params_path, *parents])
    if node.is_join or not parent_indexes:
        inherited: Mapping[str, Any] = {}
    else:
        inherited = parent_indexes[0].artifacts
    param_attrs = frozenset(params_index.attrs.get("parameters", ()))
    config_attrs = frozenset(params_index.attrs.get("configs") or ())  # read-only like params
    constants = frozenset(params_index.attrs.get("constants", ()))
    binding = StepBinding(
        datastore=ds,
        path=spec.path,
        node=node,
        inherited=inherited,
        params=params_index.artifacts,
        parameter_attrs=param_attrs | config_attrs,
        constant_names=constants,
        stack=tuple(spec.stack),
        max_num_splits=spec.max_num_splits,
        known_indexes=dict(zip(parents, parent_indexes, strict=True)),
    )
    obj = flow_cls.__new__(flow_cls)
    object.__setattr__(obj, "_hw_binding", binding)
    binding.flow = obj

    tempdir = os.path.join(
        _tmp_root(),
        f"headwater-{flow}-{spec.run_id}-{spec.step}-{spec.task_id}-{spec.attempt}-{os.getpid()}",
    )
    set_state(
        CurrentState(
            flow_name=flow,
            run_id=spec.run_id,
            step_name=spec.step,
            task_id=spec.task_id,
            retry_count=spec.attempt,
            origin_run_id=spec.origin_run_id,
            namespace=_task_namespace(spec),
            username=spec.user,
            tags=frozenset(spec.tags),
            parameter_names=tuple(sorted(param_attrs)),
            graph=_graph_dict(graph),
            tempdir=tempdir,
            client_factory=_client_object(spec),
            extras=_extras(spec, flow_cls),
        )
    )
    decorators = _decorators(spec, flow_cls)
    transition: Transition | None = None
    failed = True
    caught: str | None = None
    digest: str | None = None
    try:
        if spec.fallback is not None:
            # The previous attempt died hard; @catch records that without running the step.
            type_name, _, message = spec.fallback.partition(": ")
            if type_name == "TaskDied":  # the attempts died without an exception
                from headwater.exceptions import TaskDied

                type_name = caught_type_name(TaskDied)
            _set_caught(obj, spec, type_name, message, spec.fallback_traceback or "")
            caught = spec.fallback
            transition = _static_transition(node)
        else:
            try:
                _run_step(spec, obj, node, ds, parents, parent_indexes, decorators)
                transition = binding.resolve_transition()
                if spec.catch_var and spec.catch_var not in obj.__dict__:
                    object.__setattr__(obj, spec.catch_var, None)
            except BaseException as ex:  # noqa: BLE001 - @catch decides
                if isinstance(ex, KeyboardInterrupt) or not (spec.catch_var and spec.last_attempt):
                    raise
                tb = _report(ex)
                caught = _headline(ex)
                if spec.print_exception:
                    sys.stderr.write(tb)
                    sys.stderr.write(f"@catch kept this failure in self.{spec.catch_var}\n")
                _set_caught(obj, spec, caught_type_name(type(ex)), str(ex), tb)
                transition = _static_transition(node)
        failed = False
    finally:
        try:
            digest = _persist(ds, spec, binding, transition, failed)
        finally:
            _finish_hooks(spec, obj, not failed, ds, decorators)
            set_state(None)
            if os.path.isdir(tempdir):  # current.tempdir was used
                import shutil

                shutil.rmtree(tempdir, ignore_errors=True)
    assert transition is not None
    return transition, caught, digest


def _run_step(
    spec: TaskSpec,
    obj: Any,
    node: Any,
    ds: Datastore,
    parents: list[AttemptPath],
    parent_indexes: list[TaskIndex],
    decorators: list[Any],
) -> None:
    func = getattr(obj, spec.step)
    for deco in decorators:
        os.environ.update(deco.environment())
    for deco in decorators:
        deco.task_pre_step(obj, spec.step, spec.attempt)
    inputs = None
    if node.is_join:
        inputs = Inputs([InputTask(ds, p, i) for p, i in zip(parents, parent_indexes, strict=True)])
    wrappers = getattr(func, "wrappers", None)
    if wrappers:
        from headwater.runtime.wrapped_step import run_wrapped

        binding = obj.__dict__["_hw_binding"]
        call = (lambda: func(inputs)) if node.is_join else func
        run_wrapped(wrappers, spec.step, obj, inputs, call, binding.usual_next)
    elif node.is_join:
        func(inputs)
    else:
        func()
    for deco in decorators:
        deco.task_post_step(obj, spec.step)


def _finish_hooks(spec: TaskSpec, obj: Any, ok: bool, ds: Datastore, decorators: list[Any]) -> None:
    """Run every decorator's task_finished hook; a failing hook is reported, not fatal."""
    for deco in decorators:
        try:
            deco.task_finished(obj, spec.step, ok, ds, spec.path)
        except Exception as ex:  # noqa: BLE001 - a report (card...) must not fail the task
            sys.stderr.write(f"headwater: @{deco.name} failed after the step: {_headline(ex)}\n")


def _extras(spec: TaskSpec, flow_cls: type) -> dict[str, Any]:
    """``current`` attributes from the flow decorators (@project's) and, in a task of a
    @parallel gang, ``current.parallel`` (also given as Metaflow's MF_PARALLEL_* variables)."""
    extras = flow_current_extras(flow_cls, frozenset(spec.tags))
    top = spec.stack[-1] if spec.stack else None
    if top is not None and top.kind == FrameKind.PARALLEL:
        from headwater.core.current import Parallel

        gang = Parallel(
            main_ip=spec.main_ip or "127.0.0.1",
            num_nodes=top.num_splits,
            node_index=top.index,
            control_task_id=top.control_task or spec.task_id,
        )
        extras["parallel"] = gang
        os.environ.update(
            MF_PARALLEL_MAIN_IP=gang.main_ip,
            MF_PARALLEL_NUM_NODES=str(gang.num_nodes),
            MF_PARALLEL_NODE_INDEX=str(gang.node_index),
            MF_PARALLEL_CONTROL_TASK_ID=str(gang.control_task_id),
        )
    return extras


def _decorators(spec: TaskSpec, flow_cls: type) -> list[Any]:
    given = [parse_decospec(d) for d in spec.decospecs if not is_custom_decospec(d)]
    return step_decorators(getattr(flow_cls, spec.step), given)  # custom ones: func.wrappers


def _report(ex: BaseException) -> str:
    """The traceback of a failed step, trimmed to the user's frames (user_traceback)."""
    from headwater.runtime.user_traceback import failure_report

    return failure_report(ex, config.debug_enabled())


def _headline(ex: BaseException) -> str:
    text = str(ex).strip().splitlines()
    return f"{type(ex).__name__}: {text[0]}" if text else type(ex).__name__


def _set_caught(obj: Any, spec: TaskSpec, type_name: str, message: str, tb: str) -> None:
    assert spec.catch_var is not None
    object.__setattr__(obj, spec.catch_var, CaughtException(type_name, message, tb))


def _static_transition(node: Any) -> Transition:
    """Where a caught step goes: its static transition (never a foreach or a switch)."""
    if node.type == NodeType.END:
        return Transition(kind=TransitionKind.END)
    targets = tuple(node.out_funcs)
    kind = TransitionKind.SPLIT if len(targets) > 1 else TransitionKind.LINEAR
    return Transition(kind=kind, targets=targets)


def _persist(
    ds: Datastore,
    spec: TaskSpec,
    binding: StepBinding,
    transition: Transition | None,
    failed: bool,
) -> str | None:
    """Store the attempt's artifacts and index; returns its artifact digest when the
    datastore is far away (headwater.datastore.digest), else None."""
    t0 = time.perf_counter()
    values = binding.changed_values()  # ds.save_s covers save_values; add what is around it
    ds.save_s += time.perf_counter() - t0
    if failed:
        # Keep what can be kept; an unpicklable value must not hide the original error.
        refs = {}
        for name, value in values.items():
            try:
                refs.update(ds.save_values(spec.flow, {name: value}))
            except Exception:  # noqa: BLE001 - best effort on a failed attempt
                continue
    else:
        refs = ds.save_values(spec.flow, values)
    artifacts = dict(binding.refs)
    artifacts.update(refs)
    attrs: dict[str, Any] = {"failed": failed}
    if transition is not None:
        attrs["transition"] = transition.to_json()
    t0 = time.perf_counter()
    index = TaskIndex(artifacts=artifacts, stack=tuple(spec.stack), attrs=attrs)
    ds.write_index(spec.path, index)
    ds.save_s += time.perf_counter() - t0
    if ds.small_blobs is not None and not failed:
        from headwater.datastore.digest import encode_digest

        return encode_digest(index, ds.small_blobs)
    return None


def run_attempt(spec: TaskSpec, flow_cls: type, graph: FlowGraph, result_fd: int) -> int:
    """Execute an attempt and write its TaskResult to ``result_fd``; returns the exit code."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    ds = open_task_datastore(spec)
    result: TaskResult
    try:
        transition, caught, digest = execute(spec, flow_cls, graph, ds)
        result = TaskResult(ok=True, transition=transition, caught=caught, digest=digest)
    except BaseException as ex:  # noqa: BLE001 - the task reports every failure
        if isinstance(ex, SystemExit) and ex.code in (0, None):
            ex = RuntimeError(f"step '{spec.step}' called sys.exit({ex.code!r}) before finishing")
        tb = _report(ex)
        headline = _headline(ex)
        sys.stderr.write(tb)
        no_retry = isinstance(ex, DoNotRetry) or (
            isinstance(ex, SystemExit) and ex.code == NO_RETRY_EXIT_CODE
        )
        result = TaskResult(ok=False, exception=headline, traceback=tb, retryable=not no_retry)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = TaskResult(
        ok=result.ok,
        transition=result.transition,
        exception=result.exception,
        traceback=result.traceback,
        wall_s=time.perf_counter() - t0,
        cpu_s=time.process_time() - c0,
        max_rss_kb=int(usage.ru_maxrss),
        save_s=ds.save_s,
        load_s=ds.load_s,
        retryable=result.retryable,
        caught=result.caught,
        digest=result.digest,
    )
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    data = result.to_bytes()
    view = memoryview(data)
    while view:
        n = os.write(result_fd, view)
        view = view[n:]
    os.close(result_fd)
    return 0 if result.ok else 1
