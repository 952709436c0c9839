"""How a task's Job and pod ended, as one line a user can act on.

Read from the objects as the API returns them (dicts, camelCase). A Job that completed is a
success (the task's own result, in the datastore, says the rest); a Job that failed, or a pod
stuck where waiting cannot help (its image cannot be pulled, a secret it needs is missing), is
a failure whose reason is Kubernetes': OOMKilled, Evicted, DeadlineExceeded, ImagePullBackOff.
A reason that says more than the task could (it was killed for memory, evicted) wins over a
result the task stored; otherwise the task's result is the truth and this is the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from headwater.runtime.remote_driver import Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# Container waiting reasons after which the pod will never run as it is.
_STUCK = {
    "ImagePullBackOff": "cannot pull its image",
    "ErrImageNeverPull": "cannot pull its image (imagePullPolicy is Never)",
    "InvalidImageName": "has an invalid image name",
    "CreateContainerConfigError": "cannot be configured",
    "CreateContainerError": "cannot be created",
}


def job_outcome(job: Mapping[str, Any], pods: Iterable[Mapping[str, Any]] = ()) -> Outcome | None:
    """How the task ended, when its Job has finished (None while it runs); ``pods`` are the
    Job's pods as last seen, which may tell why it failed."""
    status = job.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or () if _true(c)}
    if "Complete" in conditions or "SuccessCriteriaMet" in conditions:
        return Outcome()
    failed = conditions.get("Failed") or conditions.get("FailureTarget")
    if failed is None:
        return None
    for pod in pods:
        outcome = pod_outcome(pod)
        if outcome is not None:
            return outcome
    reason = failed.get("reason") or "Failed"
    if reason == "DeadlineExceeded":
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        return Outcome(
            "TimeoutError: the task's Job ran past its deadline"
            + (f" ({deadline} s, @timeout plus a margin)" if deadline else "")
            + ": Kubernetes stopped it",
            overrides_result=True,
        )
    if reason == "BackoffLimitExceeded":
        code = _exit_code(pods)
        return Outcome(
            "TaskDied: the task's pod failed"
            + (f" (exit code {code})" if code is not None else "")
            + " before the task reported a result"
        )
    message = failed.get("message") or ""
    return Outcome(f"JobFailed: {reason}" + (f": {message}" if message else ""))


def pod_outcome(pod: Mapping[str, Any]) -> Outcome | None:
    """A decisive state of a pod (None: nothing that ends the task yet)."""
    status = pod.get("status") or {}
    if status.get("reason") == "Evicted":
        message = status.get("message") or "the node was short of resources"
        return Outcome(
            f"Evicted: Kubernetes evicted the task's pod ({_one_line(message)})",
            overrides_result=True,
        )
    for container in status.get("containerStatuses") or ():
        state = container.get("state") or {}
        terminated = state.get("terminated") or {}
        if terminated.get("reason") == "OOMKilled":
            limit = _memory_limit(pod, container.get("name"))
            return Outcome(
                "OOMKilled: the task's container ran out of memory"
                + (f" (limit {limit})" if limit else "")
                + ": give the step more with @kubernetes(memory=...) or @resources(memory=...)",
                overrides_result=True,
            )
        waiting = state.get("waiting") or {}
        reason = waiting.get("reason")
        if reason in _STUCK:
            message = _one_line(waiting.get("message") or "")
            image = container.get("image") or ""
            hint = (
                ": fix @kubernetes(image=...) or HEADWATER_KUBERNETES_IMAGE"
                if "image" in _STUCK[reason]
                else ""
            )
            return Outcome(
                f"{reason}: the task's pod {_STUCK[reason]}"
                + (f" {image!r}" if image and "image" in _STUCK[reason] else "")
                + (f" ({message})" if message else "")
                + hint,
                retryable=False,
                overrides_result=True,
            )
    return None


def _true(condition: Mapping[str, Any]) -> bool:
    return str(condition.get("status")) == "True"


def _exit_code(pods: Iterable[Mapping[str, Any]]) -> int | None:
    for pod in pods:
        for container in (pod.get("status") or {}).get("containerStatuses") or ():
            terminated = (container.get("state") or {}).get("terminated") or {}
            if "exitCode" in terminated:
                return int(terminated["exitCode"])
    return None


def _memory_limit(pod: Mapping[str, Any], name: str | None) -> str | None:
    for container in (pod.get("spec") or {}).get("containers") or ():
        if name is None or container.get("name") == name:
            limits = (container.get("resources") or {}).get("limits") or {}
            if limits.get("memory"):
                return str(limits["memory"])
    return None


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""
