"""``@timeout``: stop an attempt that runs too long; retry and catch then apply."""

from __future__ import annotations

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow


class TimeoutDecorator(StepDecorator):
    """Kill the attempt (its whole process group) after seconds + minutes + hours."""

    name = "timeout"
    defaults = {"seconds": 0, "minutes": 0, "hours": 0}

    def init(self) -> None:
        try:
            total = (
                float(self.attributes["seconds"])
                + 60 * float(self.attributes["minutes"])
                + 3600 * float(self.attributes["hours"])
            )
        except (TypeError, ValueError):
            raise InvalidFlow("@timeout takes numbers: seconds=, minutes=, hours=") from None
        if total <= 0:
            raise InvalidFlow("@timeout needs a positive duration, as in @timeout(minutes=10)")
        self._total = total

    def timeout_seconds(self) -> float | None:
        return self._total


timeout = make_step_decorator(TimeoutDecorator)
