"""``@ray``: run the step's tasks on a Ray cluster (``--with ray`` for every step).

The cluster is ``--ray-address``, else the setting ``HEADWATER_RAY_ADDRESS``, else ``auto``
(the cluster this machine belongs to). ``cpu``, ``memory`` (MB) and ``gpu`` become the Ray
task's resources; with ``@resources`` on the step too, the larger of each is asked for. The
executor itself is :mod:`headwater.plugins.ray_cluster`.
"""

from __future__ import annotations

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.plugins.resources import check_amounts


class RayDecorator(StepDecorator):
    """Run this step's tasks on a Ray cluster, with these resources."""

    name = "ray"
    defaults = {"cpu": 1, "memory": None, "gpu": None}

    def init(self) -> None:
        check_amounts("ray", self.attributes, ("cpu", "memory", "gpu"))

    def executor_name(self) -> str | None:
        return "ray"


ray = make_step_decorator(RayDecorator)
