"""The ``kubernetes`` executor's backend, in its driver process: one Job per task attempt.

``submit`` creates the attempt's Job (see :mod:`.manifest`); two watches per namespace (the
run's Jobs, their pods) see it through: a Job that completes or fails, or a pod stuck where
waiting cannot help, ends the task (:mod:`.pod_failures` says why), and its Job is deleted.
The metadata service's token, when the run has one, goes into a Secret made for the run (unless
``HEADWATER_KUBERNETES_SECRET`` names one already made), which ``close`` deletes with any Job
still there.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
from collections.abc import Callable, Mapping

from headwater.plugins.kubernetes_jobs import manifest
from headwater.plugins.kubernetes_jobs.gangs import GangAddresses
from headwater.plugins.kubernetes_jobs.pod_failures import job_outcome, pod_outcome
from headwater.runtime.remote_driver import BackendError, Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.runtime.spec import TaskSpec

WATCH_TIMEOUT_S = 300  # a watch is renewed after this (servers end them anyway)
LOG_TAIL_LINES = 20  # of a pod that failed before its task could report


class KubernetesBackend:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.pod = manifest.PodSettings(
            env=dict(config.get("env") or {}),
            token_secret=config.get("token_secret"),
            secrets=tuple(config.get("secrets") or ()),
            image=config.get("image"),
            namespace=config.get("namespace") or "default",
            service_account=config.get("service_account"),
            python=config.get("python") or "python",
        )
        self.context = config.get("context")
        self.batch: Any = None
        self.core: Any = None
        self._wake: Callable[[], None] = lambda: None
        self._lock = threading.Lock()
        self._finished: collections.deque[tuple[int, Outcome]] = collections.deque()
        self._jobs: dict[str, tuple[int, str]] = {}  # job name -> (handle, namespace)
        self._by_handle: dict[int, str] = {}  # handle -> job name
        self._done: set[str] = set()  # jobs whose task has been reported
        self._pods: dict[str, dict[str, Any]] = {}  # job name -> its pod as last seen
        self._watched: set[str] = set()  # namespaces
        self._watches: list[Any] = []
        self._secrets: dict[str, str] = {}  # namespace -> the token Secret made for the run
        self._gangs = GangAddresses()  # @parallel workers waiting for their control's address
        self._stopping = False

    # --- Backend ------------------------------------------------------------------------------
    def start(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        from kubernetes import client, config

        try:
            config.load_kube_config(context=self.context)
        except Exception as e:  # noqa: BLE001 - no kubeconfig: maybe we run in a pod
            try:
                config.load_incluster_config()
            except Exception:  # noqa: BLE001
                raise BackendError(
                    f"KubernetesError: no cluster to talk to ({_headline(e)}): set KUBECONFIG "
                    "or ~/.kube/config (kubectl's), or run inside the cluster"
                ) from None
        self.batch = client.BatchV1Api()
        self.core = client.CoreV1Api()

    def submit(self, handle: int, spec: TaskSpec, options: Mapping[str, Any]) -> None:
        opts = options.get("kubernetes") or {}
        if not (opts.get("image") or self.pod.image):
            raise BackendError(
                f"step '{spec.step}' runs on Kubernetes but has no image: give one with "
                "@kubernetes(image=...) or the setting HEADWATER_KUBERNETES_IMAGE"
            )
        if manifest.gang_node(spec):
            # A worker of a gang starts once its control task's pod has an address.
            ready = self._gangs.add(handle, spec, options)
            if ready is None:
                return
            spec = ready
        self._create(handle, spec, options)

    def _create(self, handle: int, spec: TaskSpec, options: Mapping[str, Any]) -> None:
        opts = options.get("kubernetes") or {}
        namespace = opts.get("namespace") or self.pod.namespace
        pod = self.pod._replace(token_secret=self._token_secret(spec, namespace))
        self._watch(namespace, spec)
        body = manifest.job(spec, options, pod)
        name = body.metadata.name
        if manifest.is_gang_control(spec):
            self._gangs.control(spec, name)
        with self._lock:
            self._jobs[name] = (handle, namespace)
            self._by_handle[handle] = name
        try:
            self.batch.create_namespaced_job(namespace, body)
        except Exception as e:  # noqa: BLE001 - the API refused it: the task fails
            with self._lock:
                self._jobs.pop(name, None)
                self._by_handle.pop(handle, None)
            raise BackendError(
                f"KubernetesError: could not create Job {name}: {_api_error(e)}"
            ) from None

    def cancel(self, handle: int, sig: int) -> None:
        if self._gangs.withdraw(handle):  # a worker still waiting for its control's address
            with self._lock:
                self._finished.append(
                    (handle, Outcome("Interrupted: the gang ended before it started", False))
                )
            self._wake()
            return
        name = self._by_handle.get(handle)
        if name is None:
            return
        self._report(name, Outcome("Interrupted: the task's Job was deleted", retryable=False))

    def finished(self) -> list[tuple[int, Outcome]]:
        out = []
        for handle, spec, options in self._gangs.start_ready():
            try:
                self._create(handle, spec, options)
            except BackendError as e:
                out.append((handle, Outcome(str(e), e.retryable)))
        with self._lock:
            while self._finished:
                out.append(self._finished.popleft())
        for handle, _ in out:
            name = self._by_handle.pop(handle, None)
            if name is not None:
                self._delete(name)
        return out

    def close(self) -> None:
        self._stopping = True
        for w in self._watches:
            with contextlib.suppress(Exception):
                w.stop()
        for name in [n for n in list(self._jobs) if n not in self._done]:
            self._delete(name)
        for namespace, secret in self._secrets.items():
            with contextlib.suppress(Exception):
                self.core.delete_namespaced_secret(secret, namespace)
        self._secrets.clear()

    # --- inside -------------------------------------------------------------------------------
    def _token_secret(self, spec: TaskSpec, namespace: str) -> str | None:
        """The Secret pods read the service token from: the configured one, else one made for
        this run in ``namespace`` (None when the run has no token)."""
        if self.pod.token_secret:
            return self.pod.token_secret
        token = os.environ.get(manifest.TOKEN_KEY)
        if not token:
            return None
        name = self._secrets.get(namespace)
        if name is None:
            name = "hw-token-" + manifest.job_name(spec._replace(step="t", task_id="0"))[3:]
            body = manifest.token_secret(name, namespace, token, spec.flow, spec.run_id)
            try:
                self.core.create_namespaced_secret(namespace, body)
            except Exception as e:  # noqa: BLE001
                raise BackendError(
                    f"KubernetesError: could not create the Secret holding the run's service "
                    f"token in namespace {namespace}: {_api_error(e)}"
                ) from None
            self._secrets[namespace] = name
        return name

    def _watch(self, namespace: str, spec: TaskSpec) -> None:
        if namespace in self._watched:
            return
        self._watched.add(namespace)
        selector = manifest.run_selector(spec.flow, spec.run_id)
        for kind in ("jobs", "pods"):
            thread = threading.Thread(
                target=self._watch_loop,
                args=(kind, namespace, selector),
                name=f"watch-{kind}-{namespace}",
                daemon=True,
            )
            thread.start()

    def _watch_loop(self, kind: str, namespace: str, selector: str) -> None:
        from kubernetes import watch

        listing = self.core.list_namespaced_pod
        if kind == "jobs":
            listing = self.batch.list_namespaced_job
        version: str | None = None
        while not self._stopping:
            w = watch.Watch()
            self._watches.append(w)
            try:
                kwargs: dict[str, Any] = {"label_selector": selector}
                kwargs["timeout_seconds"] = WATCH_TIMEOUT_S
                if version:
                    kwargs["resource_version"] = version
                for event in w.stream(listing, namespace, **kwargs):
                    obj = manifest.as_dict(event["object"])
                    version = (obj.get("metadata") or {}).get("resourceVersion") or version
                    if kind == "jobs":
                        self._on_job(event["type"], obj)
                    else:
                        self._on_pod(obj)
            except Exception as e:  # noqa: BLE001 - renewed below; 410 Gone: from now
                if "410" in str(e):
                    version = None
                if self._stopping:
                    return
                threading.Event().wait(1.0)
            finally:
                with contextlib.suppress(ValueError):
                    self._watches.remove(w)

    def _on_job(self, kind: str, job: dict[str, Any]) -> None:
        name = (job.get("metadata") or {}).get("name")
        if name not in self._jobs or name in self._done:
            return
        if kind == "DELETED":
            outcome = job_outcome(job, self._pods_of(name)) or Outcome(
                "Killed: the task's Job was deleted before it finished (kubernetes kill, or "
                "kubectl)",
                retryable=False,
            )
            self._report(name, outcome)
            return
        pods = self._pods_of(name)
        ended = job_outcome(job, pods)
        if ended is not None:
            if ended.failure and not ended.overrides_result:
                ended = ended._replace(detail=self._pod_log(name))
            self._report(name, ended)

    def _on_pod(self, pod: dict[str, Any]) -> None:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        name = labels.get("job-name")
        if name not in self._jobs:
            return
        self._pods[name] = pod
        if self._gangs.addressed(name, pod):
            self._wake()  # the driver starts the gang's workers (finished)
        outcome = pod_outcome(pod)
        if outcome is not None and not outcome.retryable:  # stuck: the Job would never end
            self._report(name, outcome)

    def _pods_of(self, name: str) -> list[dict[str, Any]]:
        seen = self._pods.get(name)
        if seen is not None and _terminated(seen):
            return [seen]
        try:
            found = self.core.list_namespaced_pod(
                self._jobs[name][1], label_selector=f"job-name={name}"
            )
        except Exception:  # noqa: BLE001 - then what the watch saw
            return [seen] if seen else []
        return [manifest.as_dict(p) for p in found.items]

    def _pod_log(self, name: str) -> str:
        """The end of the pod's own output (what happened before the task could log)."""
        pod = self._pods.get(name)
        pod_name = ((pod or {}).get("metadata") or {}).get("name")
        if not pod_name:
            return ""
        try:
            text = self.core.read_namespaced_pod_log(
                pod_name, self._jobs[name][1], container=manifest.CONTAINER,
                tail_lines=LOG_TAIL_LINES,
            )  # fmt: skip
        except Exception:  # noqa: BLE001 - a log is a bonus
            return ""
        return f"(the last lines the pod printed)\n{text}" if text else ""

    def _report(self, name: str, outcome: Outcome) -> None:
        with self._lock:
            if name in self._done or name not in self._jobs:
                return
            self._done.add(name)
            self._finished.append((self._jobs[name][0], outcome))
        self._wake()

    def _delete(self, name: str) -> None:
        namespace = self._jobs.get(name, (0, self.pod.namespace))[1]
        with contextlib.suppress(Exception):
            self.batch.delete_namespaced_job(
                name, namespace, propagation_policy="Background", grace_period_seconds=0
            )


def _terminated(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _api_error(e: BaseException) -> str:
    status, reason, body = (getattr(e, a, None) for a in ("status", "reason", "body"))
    if status is not None:
        import json

        message = ""
        with contextlib.suppress(Exception):
            message = json.loads(body or "{}").get("message", "")
        return f"{status} {reason}" + (f": {message}" if message else "")
    return _headline(e)


def _headline(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
