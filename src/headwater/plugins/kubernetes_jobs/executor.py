"""The ``kubernetes`` executor, the runtime's half: the run's settings for its pods, and what
each step's pod asks for.

Chosen with ``--with kubernetes``, ``@kubernetes`` on a step, or ``--executor kubernetes``.
The official client is an optional extra (``pip install 'headwater[k8s]'``). Pods must reach
the run's stores: a local datastore is refused unless ``HEADWATER_KUBERNETES_ALLOW_LOCAL=1``
says every pod mounts it at the same path.
"""

from __future__ import annotations

from headwater.runtime.remote_executor import RemoteExecutor

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.runtime.executor import ExecutorContext

# Settings (environment variables, or keys of the settings file).
IMAGE = "HEADWATER_KUBERNETES_IMAGE"
NAMESPACE = "HEADWATER_KUBERNETES_NAMESPACE"
SERVICE_ACCOUNT = "HEADWATER_KUBERNETES_SERVICE_ACCOUNT"
SECRETS = "HEADWATER_KUBERNETES_SECRETS"
TOKEN_SECRET = "HEADWATER_KUBERNETES_SECRET"
CONTEXT = "HEADWATER_KUBERNETES_CONTEXT"
ALLOW_LOCAL = "HEADWATER_KUBERNETES_ALLOW_LOCAL"
PYTHON = "HEADWATER_KUBERNETES_PYTHON"


class KubernetesExecutor(RemoteExecutor):
    name = "kubernetes"
    backend = "headwater.plugins.kubernetes_jobs.backend:KubernetesBackend"

    @classmethod
    def from_context(cls, ctx: ExecutorContext) -> KubernetesExecutor:
        import importlib.util

        if importlib.util.find_spec("kubernetes") is None:
            from headwater.exceptions import MissingExtra

            raise MissingExtra("the kubernetes executor", "kubernetes", "k8s")
        return cls(ctx, pod_config(ctx.settings))

    def step_options(self, step: str, decorators: list[Any]) -> dict[str, Any]:
        from headwater.plugins.kubernetes import KubernetesDecorator
        from headwater.plugins.resources import requested

        if not any(d.name == "kubernetes" for d in decorators):
            decorators = [*decorators, KubernetesDecorator()]  # --executor kubernetes
        own = next(d for d in decorators if d.name == "kubernetes").attributes
        wanted = requested(decorators, "kubernetes")
        options = {
            k: own[k]
            for k in (
                "image",
                "namespace",
                "service_account",
                "node_selector",
                "tolerations",
                "secrets",
                "labels",
                "annotations",
            )
        }
        options.update(
            cpu=wanted.cpu,
            memory_mb=wanted.memory_mb,
            disk_mb=wanted.disk_mb,
            gpu=wanted.gpu,
            shared_memory_mb=wanted.shared_memory_mb,
        )
        return {"kubernetes": options}


def pod_config(settings: Any) -> dict[str, Any]:
    """What every pod of a run gets (see manifest.PodSettings), from the run's settings."""
    import os

    from headwater.exceptions import SettingsError
    from headwater.settings import SECRET_FIELDS, VARIABLES, plugin_setting

    local = settings.datastore == "local" or settings.metadata == "local"
    allow_local = (plugin_setting(ALLOW_LOCAL) or "").lower() in ("1", "true", "yes")
    if local and not allow_local:
        which = "datastore" if settings.datastore == "local" else "metadata"
        raise SettingsError(
            f"the kubernetes executor needs stores its pods can reach, and the {which} is local "
            "to this machine: use --datastore s3 and --metadata service (or set "
            f"{ALLOW_LOCAL}=1 if every pod mounts this machine's root at the same path)"
        )
    env = {
        VARIABLES[field]: str(value)
        for field, value in settings._asdict().items()
        if value is not None and field not in SECRET_FIELDS
    }
    if local and os.environ.get("HEADWATER_ROOT"):
        env["HEADWATER_ROOT"] = os.environ["HEADWATER_ROOT"]
    secrets = [s.strip() for s in (plugin_setting(SECRETS) or "").split(",") if s.strip()]
    return {
        "env": env,
        "image": plugin_setting(IMAGE),
        "namespace": plugin_setting(NAMESPACE) or "default",
        "service_account": plugin_setting(SERVICE_ACCOUNT),
        "secrets": secrets,
        "token_secret": plugin_setting(TOKEN_SECRET),
        "context": plugin_setting(CONTEXT),
        "python": plugin_setting(PYTHON) or "python",
    }
