"""The ``ray`` executor's backend, in its driver process: each task attempt is a Ray task.

Ray places each task by the resources its step asks for (``@ray``, ``@resources``), queues it
while the cluster is full, and reuses a job's worker processes from task to task, so a worker
runs the run's tasks through a small process that imports the flow once (see
:mod:`.worker`). Ray's own retries are off (``max_retries=0``):
headwater's @retry decides. When a task's Ray future resolves, a Ray thread queues how it
ended and wakes the driver's loop.

Stopping a task (Ctrl-C) cancels its Ray task with ``force=True``, which ends the worker
process running it and so the task's process (it dies with its parent). Closing the backend
(the run is over, or the runtime died) disconnects from the cluster, and Ray stops whatever of
the job is left.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable, Mapping

from headwater.core.splits import FrameKind
from headwater.plugins.ray_cluster.placement import GangPlacement
from headwater.plugins.ray_cluster.worker import DIED
from headwater.runtime.remote_driver import BackendError, Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.runtime.spec import TaskSpec

CONNECT_PROBE_S = 5.0  # how long to try reaching the cluster before saying it is not there
WARM_WORKERS = 4  # workers started (and warmed up) as soon as the cluster is reached
NODES_REFRESH_S = 10.0  # how long the cluster's node sizes are trusted
_AMOUNTS = (("num_cpus", "CPU", "CPUs"), ("num_gpus", "GPU", "GPUs"), ("memory", "memory", "MB"))
# Passed from the run's environment to the tasks on the cluster (the job's runtime_env): the
# store settings the runtime exported, and S3 credentials when the user has them set.
_PASSED_PREFIXES = ("HEADWATER_",)
_PASSED_NAMES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "METAFLOW_USER",
)


class RayBackend:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.address = str(config.get("address") or "auto")
        self._refs: dict[int, Any] = {}  # handle -> ObjectRef
        self._finished: collections.deque[tuple[int, Outcome]] = collections.deque()
        self._lock = threading.Lock()
        self._wake: Callable[[], None] = lambda: None
        self._remote: Any = None
        self._connected = False
        self._nodes: tuple[float, list[dict[str, float]]] | None = None  # (when, resources)
        self._warming: list[Any] = []
        self._gangs = GangPlacement(self._submit)

    # --- Backend ------------------------------------------------------------------------------
    def start(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._gangs.start(wake)
        loopback = is_loopback(self.address)
        if loopback:
            # Ray swaps a loopback address for the machine's outward one unless told not to
            # (read once, when ray is imported); a cluster on 127.0.0.1 is reached there.
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        import logging

        import ray

        target = self._probe(ray)
        kwargs: dict[str, Any] = {
            "address": self.address,
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            "runtime_env": {"env_vars": task_environment()},
        }
        if loopback or (target is not None and is_loopback(target)):
            kwargs["_node_ip_address"] = "127.0.0.1"
        try:
            ray.init(**kwargs)
        except Exception as e:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError...
            raise self._unreachable(e) from None
        self._connected = True
        from headwater.plugins.ray_cluster.worker import run_task, warm_up  # noqa: I001

        self._remote = ray.remote(max_retries=0, retry_exceptions=False)(run_task)
        # Start the job's workers now, each importing what tasks need, while the run is being
        # recorded: its first tasks then find them ready.
        cpus = int(ray.cluster_resources().get("CPU", 1))
        warm = ray.remote(max_retries=0)(warm_up)
        self._warming = [warm.remote() for _ in range(max(1, min(cpus, WARM_WORKERS)))]

    def submit(self, handle: int, spec: TaskSpec, options: Mapping[str, Any]) -> None:
        ray_options = dict(options.get("ray") or {})
        self._check_fits(spec.step, ray_options)
        ray_options["name"] = f"{spec.flow}/{spec.run_id}/{spec.step}/{spec.task_id}"
        ray_options["timeout_s"] = options.get("timeout_s")
        top = spec.stack[-1] if spec.stack else None
        if top is not None and top.kind == FrameKind.PARALLEL and spec.fallback is None:
            # A task of a @parallel gang starts once the gang's placement group is placed.
            import ray

            self._gangs.add(handle, spec, ray_options, ray.cluster_resources())
            return
        self._submit(handle, spec, ray_options)

    def _submit(self, handle: int, spec: TaskSpec, ray_options: dict[str, Any]) -> None:
        options = dict(ray_options)
        timeout_s = options.pop("timeout_s", None)
        ref = self._remote.options(**options).remote(spec.to_json(), timeout_s)
        self._refs[handle] = ref
        ref.future().add_done_callback(lambda future: self._done(handle, future))

    def cancel(self, handle: int, sig: int) -> None:
        if self._gangs.withdraw(handle):  # it was waiting for its gang's placement group
            cancelled = Outcome("Interrupted: the Ray task was cancelled", retryable=False)
            with self._lock:
                self._finished.append((handle, cancelled))
            self._wake()
            return
        ref = self._refs.get(handle)
        if ref is not None:
            import ray

            ray.cancel(ref, force=True)

    def finished(self) -> list[tuple[int, Outcome]]:
        out = self._gangs.start_ready()
        with self._lock:
            while self._finished:
                out.append(self._finished.popleft())
        for handle, _ in out:
            self._refs.pop(handle, None)
            self._gangs.ended(handle)
        return out

    def close(self) -> None:
        if self._connected:
            import ray

            for ref in list(self._refs.values()):
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001, S112 - finished meanwhile
                    continue
            self._gangs.close()
            ray.shutdown()
            self._connected = False

    # --- inside -------------------------------------------------------------------------------
    def _check_fits(self, step: str, ray_options: Mapping[str, Any]) -> None:
        """Fail a task no node of the cluster could ever run (Ray would queue it forever)."""
        import time

        if self._nodes is None or time.monotonic() - self._nodes[0] > NODES_REFRESH_S:
            import ray

            alive = [n.get("Resources") or {} for n in ray.nodes() if n.get("Alive")]
            self._nodes = (time.monotonic(), alive)
        nodes = self._nodes[1]
        for option, resource, unit in _AMOUNTS:
            wanted = float(ray_options.get(option) or 0)
            if not wanted or not nodes:
                continue
            largest = max(float(n.get(resource, 0)) for n in nodes)
            if wanted > largest:
                scale = 1 << 20 if resource == "memory" else 1
                raise BackendError(
                    f"step '{step}' asks Ray for {wanted / scale:g} {unit}, more than any node "
                    f"of the cluster has (largest: {largest / scale:g}): lower @ray(...) or "
                    "@resources(...), or add a node that big"
                )

    def _done(self, handle: int, future: Any) -> None:
        """In a Ray thread: how the task ended."""
        try:
            answer = future.result()
            outcome = Outcome()
            if answer == DIED:
                outcome = Outcome("TaskDied: the process running the task on the Ray worker died")
        except BaseException as e:  # noqa: BLE001 - every way a Ray task can end
            outcome = outcome_of(e)
        with self._lock:
            self._finished.append((handle, outcome))
        self._wake()

    def _probe(self, ray: Any) -> str | None:
        """The cluster's host:port when it can be found, after checking something answers
        there (ray.init would otherwise retry an unreachable address for many minutes)."""
        try:
            from ray._private.services import canonicalize_bootstrap_address

            target = canonicalize_bootstrap_address(self.address)
        except Exception as e:  # noqa: BLE001 - no cluster found for "auto", a bad address
            raise self._unreachable(e) from None
        if target is None:
            return None
        if target.startswith("ray://"):
            target = target[len("ray://") :]
        host, _, port = target.rpartition(":")
        import socket

        try:
            socket.create_connection((host.strip("[]"), int(port)), CONNECT_PROBE_S).close()
        except (OSError, ValueError) as e:
            raise self._unreachable(e) from None
        return target

    def _unreachable(self, e: BaseException) -> BackendError:
        text = str(e).strip().splitlines()
        why = text[0] if text else type(e).__name__
        return BackendError(
            f"RayError: could not connect to the Ray cluster at '{self.address}' ({why}): start "
            "one with `ray start --head`, or give its address with --ray-address or "
            "HEADWATER_RAY_ADDRESS"
        )


def outcome_of(e: BaseException) -> Outcome:
    """How a Ray task that raised ``e`` ended, as a task failure a user can act on."""
    kind = type(e).__name__
    text = str(e).strip().splitlines()
    first = text[0] if text else ""
    if kind == "TaskCancelledError":
        return Outcome("Interrupted: the Ray task was cancelled", retryable=False)
    if kind == "OutOfMemoryError":
        return Outcome(
            "OutOfMemoryError: Ray stopped the task's worker because its node was running out of "
            "memory: ask for more with @ray(memory=...) or @resources(memory=...)",
            overrides_result=True,
        )
    if kind in ("WorkerCrashedError", "NodeDiedError", "LocalRayletDiedError", "ObjectLostError"):
        return Outcome(
            f"TaskDied: the Ray worker running the task died ({kind}"
            + (f": {first}" if first and kind != "WorkerCrashedError" else "")
            + ")",
            overrides_result=False,
        )
    cause = getattr(e, "cause", None)
    if kind.startswith("RayTaskError") and isinstance(cause, BaseException):
        # The worker could not run the task at all (importing the flow failed...).
        detail = str(e).strip()
        cause_text = str(cause).strip().splitlines()
        headline = type(cause).__name__ + (f": {cause_text[0]}" if cause_text else "")
        if type(cause).__name__ == "FlowImportFailed":  # its message is the import's error
            headline = cause_text[0] if cause_text else headline
        return Outcome(
            f"{headline} (on the Ray worker, before the step ran)",
            retryable=False,
            detail=detail + "\n" if detail else "",
        )
    return Outcome(f"RayError: {kind}" + (f": {first}" if first else ""))


def task_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables tasks on the cluster get from the run's environment."""
    env = os.environ if environ is None else environ
    return {k: v for k, v in env.items() if k.startswith(_PASSED_PREFIXES) or k in _PASSED_NAMES}


def is_loopback(address: str) -> bool:
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")
