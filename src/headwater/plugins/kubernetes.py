"""``@kubernetes``: run the step's tasks as Kubernetes Jobs (``--with kubernetes`` for every
step), and say what their pods are (image, resources, namespace, secrets...).

``cpu``, ``memory`` (MB), ``disk`` (MB) and ``gpu`` become the pod's requests and limits; with
``@resources`` on the step too, the larger of each is asked for. The executor itself is
:mod:`headwater.plugins.kubernetes_jobs`; the settings it reads (``HEADWATER_KUBERNETES_IMAGE``,
``..._NAMESPACE``, ``..._SERVICE_ACCOUNT``, ``..._SECRETS``, ``..._SECRET``) give the defaults
of the arguments left unset. Compiled flows use the same arguments: on Argo Workflows and
Airflow the step's pod is built from them (:mod:`headwater.plugins.deploy.pod_spec`).
"""

from __future__ import annotations

from collections.abc import Mapping

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow
from headwater.plugins.resources import check_amounts


class KubernetesDecorator(StepDecorator):
    """Run this step's tasks in Kubernetes pods, one Job per task attempt."""

    name = "kubernetes"
    defaults = {
        "cpu": 1,
        "memory": 4096,
        "disk": 10240,
        "gpu": None,
        "image": None,
        "namespace": None,
        "service_account": None,
        "node_selector": None,
        "tolerations": [],
        "secrets": None,
        "labels": {},
        "annotations": {},
    }

    def init(self) -> None:
        a = self.attributes
        check_amounts("kubernetes", a, ("cpu", "memory", "disk"))
        if a["gpu"] is not None and not str(a["gpu"]).isdigit():
            raise InvalidFlow(f"@kubernetes(gpu={a['gpu']!r}) needs a whole number of GPUs")
        for key in ("labels", "annotations"):
            if not isinstance(a[key], Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in a[key].items()
            ):
                raise InvalidFlow(f"@kubernetes({key}=...) takes a dict of strings to strings")
        selector = a["node_selector"]
        if isinstance(selector, str):
            pairs = [p.strip() for p in selector.split(",") if p.strip()]
            if not all("=" in p for p in pairs):
                raise InvalidFlow(
                    f"@kubernetes(node_selector={selector!r}): write it as 'key=value,key2=value2'"
                )
            a["node_selector"] = dict(p.split("=", 1) for p in pairs)
        elif selector is not None and not isinstance(selector, Mapping):
            raise InvalidFlow("@kubernetes(node_selector=...) takes a dict or 'key=value,...'")
        if not isinstance(a["tolerations"], (list, tuple)) or not all(
            isinstance(t, Mapping) for t in a["tolerations"]
        ):
            raise InvalidFlow("@kubernetes(tolerations=...) takes a list of dicts")
        if isinstance(a["secrets"], str):
            a["secrets"] = [s.strip() for s in a["secrets"].split(",") if s.strip()]
        elif a["secrets"] is not None and not isinstance(a["secrets"], (list, tuple)):
            raise InvalidFlow("@kubernetes(secrets=...) takes a list of secret names")

    def executor_name(self) -> str | None:
        return "kubernetes"


kubernetes = make_step_decorator(KubernetesDecorator)
