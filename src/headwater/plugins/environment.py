"""``@environment``: environment variables set for the task."""

from __future__ import annotations

from collections.abc import Mapping

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow


class EnvironmentDecorator(StepDecorator):
    name = "environment"
    defaults = {"vars": {}}

    def init(self) -> None:
        env = self.attributes["vars"]
        if not isinstance(env, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise InvalidFlow("@environment(vars=...) takes a dict of strings to strings")

    def environment(self) -> Mapping[str, str]:
        return dict(self.attributes["vars"])


environment = make_step_decorator(EnvironmentDecorator)
