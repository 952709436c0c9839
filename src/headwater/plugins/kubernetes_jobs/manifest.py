"""The Kubernetes objects of one task attempt: a ``batch/v1`` Job (and the run's token Secret),
built with the official client's models.

The pod runs ``headwater bootstrap``, which fetches the run's code package from the datastore
and runs the flow's ``step`` command (see cli/cmd_bootstrap.py): the image needs headwater,
not the flow. Store settings reach the pod as plain environment variables (none is secret);
the metadata service's token comes from a Secret (``secretKeyRef``) and the user's secrets as
``envFrom``, so no credential is ever in the manifest's text.

Names and labels follow Kubernetes' rules (DNS-1123 names of at most 63 characters, label
values of at most 63): a task's Job is ``hw-<flow>-<run>-<step>-<task>-<attempt>`` shortened
and made unique with a hash; the exact pathspec is in its annotations.

Kubernetes expands ``$(VAR)`` in a container's command (and turns ``$$`` into ``$``): the spec's
text is escaped so that it reaches the task as written. The one reference left to expand is
the control task of a @parallel gang being told its own pod's address (``--main-ip
$(HEADWATER_POD_IP)``, the downward API's ``status.podIP``); its workers are given that
address once the pod has it (see gangs.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from headwater.core.splits import FrameKind
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.runtime.spec import TaskSpec

MANAGED_BY = "app.kubernetes.io/managed-by"
PREFIX = "headwater.dev/"
FLOW_LABEL = PREFIX + "flow"
RUN_LABEL = PREFIX + "run-id"
STEP_LABEL = PREFIX + "step"
TASK_LABEL = PREFIX + "task-id"
ATTEMPT_LABEL = PREFIX + "attempt"
USER_LABEL = PREFIX + "user"
PATHSPEC_ANNOTATION = PREFIX + "pathspec"
TOKEN_KEY = "HEADWATER_SERVICE_TOKEN"
POD_IP_ENV = "HEADWATER_POD_IP"  # a gang's control pod: its own address (status.podIP)
CONTAINER = "task"
FINISHED_TTL_S = 3600  # Kubernetes removes a finished Job after this if nobody did
DEADLINE_GRACE_S = 300  # a Job's activeDeadlineSeconds: @timeout plus this (a backstop)


class PodSettings(Record):
    """What every pod of a run gets, besides its step's options."""

    env: Mapping[str, str]  # plain settings (datastore, metadata URL...), never a secret
    token_secret: str | None = None  # the Secret whose key HEADWATER_SERVICE_TOKEN pods read
    secrets: tuple[str, ...] = ()  # Secrets every pod gets as environment (envFrom)
    image: str | None = None  # when the step's @kubernetes gives none
    namespace: str = "default"
    service_account: str | None = None
    python: str = "python"  # the image's Python, for `python -m headwater.cli.console`


def label_value(text: str) -> str:
    """``text`` as a label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("._-")
    if len(value) > 63:
        digest = hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
        value = value[:54].rstrip("._-") + "-" + digest
    return value or "x"


def job_name(spec: TaskSpec) -> str:
    """A DNS-1123 name unique to the attempt, at most 63 characters."""
    full = f"{spec.flow}/{spec.run_id}/{spec.step}/{spec.task_id}/{spec.attempt}"
    digest = hashlib.blake2b(full.encode(), digest_size=4).hexdigest()
    slug = re.sub(r"[^a-z0-9-]+", "-", full.lower().replace("/", "-")).strip("-")
    return f"hw-{slug[:48].rstrip('-')}-{digest}"


def run_selector(flow: str, run_id: str | None = None) -> str:
    """The label selector of headwater's Jobs of a flow (and run)."""
    parts = [f"{MANAGED_BY}=headwater", f"{FLOW_LABEL}={label_value(flow)}"]
    if run_id is not None:
        parts.append(f"{RUN_LABEL}={label_value(run_id)}")
    return ",".join(parts)


def labels_of(spec: TaskSpec) -> dict[str, str]:
    return {
        MANAGED_BY: "headwater",
        FLOW_LABEL: label_value(spec.flow),
        RUN_LABEL: label_value(spec.run_id),
        STEP_LABEL: label_value(spec.step),
        TASK_LABEL: label_value(spec.task_id),
        ATTEMPT_LABEL: str(spec.attempt),
        USER_LABEL: label_value(spec.user or "unknown"),
    }


def command(spec: TaskSpec, python: str = "python") -> list[str]:
    """The pod's command: fetch the run's code, then ``python FLOW [--with D] step ...``."""
    withs = [arg for deco in spec.decospecs for arg in ("--with", deco)]
    args = [
        python, "-m", "headwater.cli.console", "bootstrap",
        "--flow", spec.flow, "--run-id", spec.run_id, "--",
        *withs, "step", spec.step, "--spec", spec.to_json(),
    ]  # fmt: skip
    args = [a.replace("$", "$$") for a in args]  # as written, past Kubernetes' $(VAR) expansion
    if is_gang_control(spec):
        args += ["--main-ip", f"$({POD_IP_ENV})"]
    return args


def gang_node(spec: TaskSpec) -> int | None:
    """The node index of a @parallel gang's task that has no control address yet (0: the
    control task, which its pod tells its own; above 0: a worker, which waits for it), else
    None."""
    top = spec.stack[-1] if spec.stack else None
    if top is None or top.kind != FrameKind.PARALLEL or spec.main_ip or spec.fallback:
        return None
    return top.index


def is_gang_control(spec: TaskSpec) -> bool:
    return gang_node(spec) == 0


def job(spec: TaskSpec, options: Mapping[str, Any], pod: PodSettings) -> Any:
    """The Job (a kubernetes.client.V1Job) that runs the attempt ``spec``."""
    from kubernetes import client as k8s

    opts = dict(options.get("kubernetes") or {})
    image = opts.get("image") or pod.image
    labels = {**dict(opts.get("labels") or {}), **labels_of(spec)}
    annotations = {
        **dict(opts.get("annotations") or {}),
        PATHSPEC_ANNOTATION: spec.pathspec,
        ATTEMPT_LABEL: str(spec.attempt),
    }
    env = [k8s.V1EnvVar(name=k, value=v) for k, v in sorted(pod.env.items())]
    env.append(k8s.V1EnvVar(name="HEADWATER_USER", value=spec.user or "unknown"))
    if pod.token_secret:
        env.append(
            k8s.V1EnvVar(
                name=TOKEN_KEY,
                value_from=k8s.V1EnvVarSource(
                    secret_key_ref=k8s.V1SecretKeySelector(name=pod.token_secret, key=TOKEN_KEY)
                ),
            )
        )
    if is_gang_control(spec):
        env.append(
            k8s.V1EnvVar(
                name=POD_IP_ENV,
                value_from=k8s.V1EnvVarSource(
                    field_ref=k8s.V1ObjectFieldSelector(field_path="status.podIP")
                ),
            )
        )
    secrets = list(dict.fromkeys([*pod.secrets, *(opts.get("secrets") or ())]))
    env_from = [k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name=s)) for s in secrets]
    volumes, mounts = [], []
    if opts.get("shared_memory_mb"):
        volumes.append(
            k8s.V1Volume(
                name="dshm",
                empty_dir=k8s.V1EmptyDirVolumeSource(
                    medium="Memory", size_limit=f"{int(opts['shared_memory_mb'])}Mi"
                ),
            )
        )
        mounts.append(k8s.V1VolumeMount(name="dshm", mount_path="/dev/shm"))
    container = k8s.V1Container(
        name=CONTAINER,
        image=image,
        command=command(spec, pod.python),
        env=env,
        env_from=env_from or None,
        resources=_resources(opts),
        volume_mounts=mounts or None,
    )
    pod_spec = k8s.V1PodSpec(
        restart_policy="Never",
        containers=[container],
        service_account_name=opts.get("service_account") or pod.service_account,
        node_selector=dict(opts["node_selector"]) if opts.get("node_selector") else None,
        tolerations=[_toleration(t) for t in opts.get("tolerations") or ()] or None,
        volumes=volumes or None,
    )
    timeout_s = options.get("timeout_s")
    return k8s.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=k8s.V1ObjectMeta(
            name=job_name(spec),
            namespace=opts.get("namespace") or pod.namespace,
            labels=labels,
            annotations=annotations,
        ),
        spec=k8s.V1JobSpec(
            backoff_limit=0,  # headwater's @retry decides, with the next attempt's own Job
            ttl_seconds_after_finished=FINISHED_TTL_S,
            active_deadline_seconds=int(timeout_s) + DEADLINE_GRACE_S if timeout_s else None,
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=labels, annotations=annotations),
                spec=pod_spec,
            ),
        ),
    )


def token_secret(name: str, namespace: str, token: str, flow: str, run_id: str) -> Any:
    """The Secret holding the run's metadata service token (a kubernetes.client.V1Secret)."""
    from kubernetes import client as k8s

    return k8s.V1Secret(
        api_version="v1",
        kind="Secret",
        type="Opaque",
        metadata=k8s.V1ObjectMeta(
            name=name,
            namespace=namespace,
            labels={
                MANAGED_BY: "headwater",
                FLOW_LABEL: label_value(flow),
                RUN_LABEL: label_value(run_id),
            },
        ),
        string_data={TOKEN_KEY: token},
    )


def as_dict(obj: Any) -> dict[str, Any]:
    """A client model as the API's JSON (camelCase, no None fields)."""
    from kubernetes.client import ApiClient

    return ApiClient().sanitize_for_serialization(obj)


def _resources(opts: Mapping[str, Any]) -> Any:
    from kubernetes import client as k8s

    requests: dict[str, str] = {"cpu": _cpu(opts.get("cpu") or 1)}
    limits: dict[str, str] = {}
    if opts.get("memory_mb"):
        requests["memory"] = limits["memory"] = f"{int(opts['memory_mb'])}Mi"
    if opts.get("disk_mb"):
        requests["ephemeral-storage"] = f"{int(opts['disk_mb'])}Mi"
    if opts.get("gpu"):
        limits["nvidia.com/gpu"] = str(int(opts["gpu"]))
    return k8s.V1ResourceRequirements(requests=requests, limits=limits or None)


def _cpu(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{int(number * 1000)}m"


def _toleration(t: Mapping[str, Any]) -> Any:
    from kubernetes import client as k8s

    known = {
        "key": "key",
        "operator": "operator",
        "value": "value",
        "effect": "effect",
        "tolerationSeconds": "toleration_seconds",
        "toleration_seconds": "toleration_seconds",
    }
    return k8s.V1Toleration(**{known[k]: v for k, v in t.items() if k in known})
