"""The Kubernetes container and pod settings of a step, from @kubernetes and @resources.

Shared by the Argo Workflows compiler (every step is a pod) and the Airflow compiler (a
KubernetesPodOperator for steps with @kubernetes). Settings reach the pod as environment
variables; secret settings (the metadata service's token) only as references to a Kubernetes
secret, never as text in the manifest.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from headwater.exceptions import InvalidFlow
from headwater.plugins.deploy.deployment import Deployment, StepPlan

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

IMAGE_SETTING = "HEADWATER_KUBERNETES_IMAGE"
NAMESPACE_SETTING = "HEADWATER_KUBERNETES_NAMESPACE"
SECRET_SETTING = "HEADWATER_KUBERNETES_SECRET"
DEFAULT_SECRET = "headwater"
_K8S_DEFAULTS = {"cpu": 1, "memory": 4096, "disk": 10240}


def _kube(step: StepPlan) -> dict[str, Any]:
    from headwater.plugins.kubernetes import KubernetesDecorator

    out = dict(KubernetesDecorator.defaults)
    out.update(step.kubernetes or {})
    for key in ("cpu", "memory", "gpu"):  # @resources raises what @kubernetes left at default
        res = step.resources.get(key)
        if res is not None and (out[key] is None or float(res) > float(out[key])):
            out[key] = res
    return out


def image(step: StepPlan, environ: Mapping[str, str]) -> str:
    chosen = _kube(step)["image"] or environ.get(IMAGE_SETTING)
    if not chosen:
        raise InvalidFlow(
            f"step {step.name!r} needs a container image: set {IMAGE_SETTING} to an image with "
            "headwater installed, or give @kubernetes(image=...)"
        )
    return str(chosen)


def namespace(dep: Deployment, environ: Mapping[str, str]) -> str:
    for step in dep.steps.values():
        if step.kubernetes and step.kubernetes.get("namespace"):
            return str(step.kubernetes["namespace"])
    return environ.get(NAMESPACE_SETTING) or "default"


def _number(value: Any) -> str:
    f = float(value)
    return str(int(f)) if f.is_integer() else str(f)


def resources(step: StepPlan) -> dict[str, Any]:
    k = _kube(step)
    amounts = {
        "cpu": _number(k["cpu"]),
        "memory": f"{_number(k['memory'])}M",
        "ephemeral-storage": f"{_number(k['disk'])}M",
    }
    limits = dict(amounts)
    if k["gpu"]:
        limits["nvidia.com/gpu"] = str(int(k["gpu"]))
    return {"requests": amounts, "limits": limits}


def env_list(
    env: Mapping[str, str], secret_names: Sequence[str], environ: Mapping[str, str]
) -> list[dict[str, Any]]:
    """``env`` of a container: plain settings by value, secret ones from the secret."""
    secret = environ.get(SECRET_SETTING) or DEFAULT_SECRET
    out: list[dict[str, Any]] = [{"name": k, "value": str(v)} for k, v in sorted(env.items())]
    for name in secret_names:
        out.append({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": name}}})
    return out


def env_from(step: StepPlan) -> list[dict[str, Any]]:
    secrets = _kube(step)["secrets"] or []
    return [{"secretRef": {"name": str(s)}} for s in secrets]


def node_selector(step: StepPlan) -> dict[str, str] | None:
    sel = _kube(step)["node_selector"]
    if not sel:
        return None
    if isinstance(sel, str):
        pairs = [p.split("=", 1) for p in sel.split(",") if "=" in p]
        return {k.strip(): v.strip() for k, v in pairs}
    return {str(k): str(v) for k, v in sel.items()}


def pod_settings(step: StepPlan) -> dict[str, Any]:
    """Pod-level settings: service account, node selector, tolerations, labels, annotations."""
    k = _kube(step)
    out: dict[str, Any] = {}
    if k["service_account"]:
        out["serviceAccountName"] = str(k["service_account"])
    selector = node_selector(step)
    if selector:
        out["nodeSelector"] = selector
    if k["tolerations"]:
        out["tolerations"] = [dict(t) for t in k["tolerations"]]
    if k["labels"]:
        out["labels"] = {str(a): str(b) for a, b in k["labels"].items()}
    if k["annotations"]:
        out["annotations"] = {str(a): str(b) for a, b in k["annotations"].items()}
    return out


def step_script(
    dep: Deployment,
    step: str,
    code_package: str,
    *,
    runtime: str,
    run_id: str,
    retry_count: str,
    input_paths: str | None,
    split_index: str | None,
    output_dir: str,
    before_init: Sequence[str] = (),
    init_args: str = "",
    step_args: str = "",
    after: Sequence[str] = (),
) -> str:
    """The shell script a step's pod runs: unpack the code package, ``init`` (the start
    step), then ``step``. The arguments are shell text, already quoted or templated."""
    flow_file = dep.flow_file.rsplit("/", 1)[-1]
    top = " ".join(shlex.quote(a) for a in dep.top_args)
    head = f"python {shlex.quote(flow_file)}" + (f" {top}" if top else "")
    lines = [
        "set -e",
        'code="$(mktemp -d)"',
        f"python -m headwater.runtime.code_unpack {shlex.quote(dep.flow)} "
        f'{shlex.quote(code_package)} "$code"',
        'cd "$code"',
    ]
    if step == dep.graph.start:
        lines += before_init
        init = f"{head} init --run-id {run_id} --runtime {runtime}"
        init += f" --production-token {shlex.quote(dep.production_token)}"
        for tag in dep.tags:
            init += f" --tag {shlex.quote(tag)}"
        lines.append(init + (f" {init_args}" if init_args else ""))
    plan = dep.steps[step]
    cmd = f"{head} step {shlex.quote(step)} --run-id {run_id} --retry-count {retry_count}"
    cmd += f" --max-user-code-retries {plan.retries} --output-dir {output_dir}"
    if input_paths is not None:
        cmd += f" --input-paths {input_paths}"
    if split_index is not None:
        cmd += f" --split-index {split_index}"
    if step_args:
        cmd += f" {step_args}"
    lines.append(cmd)
    lines += after
    return "\n".join(lines) + "\n"


def pod_manifest(
    dep: Deployment, step: str, environ: Mapping[str, str], container_name: str = "base"
) -> dict[str, Any]:
    """A Pod for one step (its command is given apart): image, resources, settings, secrets,
    service account, node selector, tolerations, labels and annotations."""
    plan = dep.steps[step]
    env = dict(dep.env)
    env.update(plan.environment)
    container: dict[str, Any] = {
        "name": container_name,
        "image": image(plan, environ),
        "env": env_list(env, dep.secret_env, environ),
        "resources": resources(plan),
    }
    if env_from(plan):
        container["envFrom"] = env_from(plan)
    pod = pod_settings(plan)
    metadata = {k: pod.pop(k) for k in ("labels", "annotations") if k in pod}
    spec: dict[str, Any] = {"containers": [container], "restartPolicy": "Never", **pod}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
