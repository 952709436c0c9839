"""``@kubernetes``: what a step's pod is (image, resources, namespace, secrets...).

Compiled flows use it: a step with ``@kubernetes`` runs in a pod built from these arguments
(:mod:`headwater.plugins.deploy.pod_spec`) on Argo Workflows, and in a KubernetesPodOperator
on Airflow. ``@resources`` gives cpu, memory and gpu when ``@kubernetes`` does not.
"""

from __future__ import annotations

from collections.abc import Mapping

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow


class KubernetesDecorator(StepDecorator):
    """Run the step's tasks in Kubernetes pods (when the flow is deployed)."""

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
        for key in ("cpu", "memory", "disk"):
            try:
                if float(a[key]) <= 0:
                    raise ValueError
            except (TypeError, ValueError):
                raise InvalidFlow(
                    f"@kubernetes({key}={a[key]!r}) needs a positive number"
                ) from None
        if a["gpu"] is not None and (not str(a["gpu"]).isdigit()):
            raise InvalidFlow(f"@kubernetes(gpu={a['gpu']!r}) needs a whole number of GPUs")
        for key in ("labels", "annotations"):
            if not isinstance(a[key], Mapping):
                raise InvalidFlow(f"@kubernetes({key}=...) takes a dict of strings")
        if a["node_selector"] is not None and not isinstance(a["node_selector"], (Mapping, str)):
            raise InvalidFlow("@kubernetes(node_selector=...) takes a dict or 'key=value,...'")
        if isinstance(a["secrets"], str):
            a["secrets"] = [s.strip() for s in a["secrets"].split(",") if s.strip()]


kubernetes = make_step_decorator(KubernetesDecorator)
