"""``@resources``: what a step needs; remote executors use it, locally headwater warns."""

from __future__ import annotations

from headwater.core.decorators import StepDecorator, make_step_decorator


class ResourcesDecorator(StepDecorator):
    name = "resources"
    defaults = {"cpu": 1, "gpu": None, "memory": 4096, "disk": None, "shared_memory": None}


resources = make_step_decorator(ResourcesDecorator)
