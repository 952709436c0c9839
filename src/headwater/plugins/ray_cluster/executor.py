"""The ``ray`` executor, the runtime's half: what each step asks the cluster for.

Chosen with ``--executor ray``, ``--with ray`` or ``@ray`` on a step. Ray is an optional
extra (``pip install 'headwater[ray]'``); the cluster's address is ``--ray-address``, else the
setting ``HEADWATER_RAY_ADDRESS``, else ``auto``.
"""

from __future__ import annotations

from headwater.runtime.remote_executor import RemoteExecutor

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.runtime.executor import ExecutorContext

ADDRESS_SETTING = "HEADWATER_RAY_ADDRESS"
DEFAULT_ADDRESS = "auto"


class RayExecutor(RemoteExecutor):
    name = "ray"
    backend = "headwater.plugins.ray_cluster.backend:RayBackend"
    # Disconnecting from Ray takes most of a second and concerns no task of the run any more
    # (Ray stops whatever of the job is left): the run does not wait for it.
    close_wait_s = 0.05

    @classmethod
    def from_context(cls, ctx: ExecutorContext) -> RayExecutor:
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            from headwater.exceptions import MissingExtra

            raise MissingExtra("the ray executor", "ray", "ray")
        return cls(ctx, {"address": cluster_address(ctx.options)})

    def step_options(self, step: str, decorators: list[Any]) -> dict[str, Any]:
        from headwater.plugins.resources import requested

        wanted = requested(decorators, "ray")
        options: dict[str, Any] = {"num_cpus": wanted.cpu if wanted.cpu is not None else 1}
        if wanted.gpu:
            options["num_gpus"] = wanted.gpu
        if wanted.memory_mb:
            options["memory"] = int(wanted.memory_mb * (1 << 20))  # Ray counts bytes
        return {"ray": options}


def cluster_address(options: Any = None) -> str:
    from headwater.settings import plugin_setting

    given = (options or {}).get("ray_address")
    return str(given or plugin_setting(ADDRESS_SETTING) or DEFAULT_ADDRESS)
