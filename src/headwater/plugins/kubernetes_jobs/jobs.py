"""A flow's Jobs on the cluster, found by their labels: for ``python flow.py kubernetes
list|kill``. The runtime deletes each Job once its task has ended, so what is listed is what
runs now (or what a runtime that died left behind)."""

from __future__ import annotations

from headwater.plugins.kubernetes_jobs import manifest
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class JobInfo(Record):
    name: str
    namespace: str
    pathspec: str  # Flow/run/step/task
    attempt: str
    status: str  # running, succeeded, failed, pending


def connect(context: str | None = None) -> Any:
    """The BatchV1Api of the cluster kubectl would use (or the one this pod is in)."""
    from kubernetes import client, config

    from headwater.exceptions import SettingsError

    try:
        config.load_kube_config(context=context)
    except Exception as e:  # noqa: BLE001
        try:
            config.load_incluster_config()
        except Exception:  # noqa: BLE001
            raise SettingsError(
                f"no Kubernetes cluster to talk to ({e}): set KUBECONFIG or ~/.kube/config"
            ) from None
    return client.BatchV1Api()


def list_jobs(api: Any, namespace: str, flow: str, run_id: str | None = None) -> list[JobInfo]:
    """headwater's Jobs of ``flow`` (of one run) in ``namespace``."""
    found = api.list_namespaced_job(namespace, label_selector=manifest.run_selector(flow, run_id))
    out = []
    for job in found.items:
        meta = job.metadata
        annotations = meta.annotations or {}
        pathspec = annotations.get(manifest.PATHSPEC_ANNOTATION, "")
        if not pathspec.startswith(f"{flow}/") or (
            run_id is not None and pathspec.split("/")[1:2] != [run_id]
        ):
            continue  # a label that was shortened matched another flow or run
        out.append(
            JobInfo(
                meta.name,
                meta.namespace or namespace,
                pathspec,
                annotations.get(manifest.ATTEMPT_LABEL, "0"),
                _status(job.status),
            )
        )
    return sorted(out, key=lambda j: (j.pathspec, j.attempt))


def delete_jobs(api: Any, jobs: list[JobInfo]) -> None:
    for job in jobs:
        api.delete_namespaced_job(
            job.name, job.namespace, propagation_policy="Background", grace_period_seconds=0
        )


def _status(status: Any) -> str:
    if status is None:
        return "pending"
    if status.succeeded:
        return "succeeded"
    if status.failed:
        return "failed"
    if status.active:
        return "running"
    return "pending"
