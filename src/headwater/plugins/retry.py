"""``@retry``: run a failed task again, waiting between attempts (locally too)."""

from __future__ import annotations

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow

MAX_RETRIES = 100


class RetryDecorator(StepDecorator):
    """Re-run a failed attempt up to ``times`` times; locally at once, unless
    ``minutes_between_retries`` is given, then that many minutes apart.

    A step can refuse a retry by raising ``headwater.exceptions.DoNotRetry`` or by exiting
    with code 202 (Metaflow's convention).
    """

    name = "retry"
    defaults = {"times": 3, "minutes_between_retries": 2}

    def init(self) -> None:
        try:
            times = int(self.attributes["times"])
            wait = float(self.attributes["minutes_between_retries"])
        except (TypeError, ValueError):
            raise InvalidFlow(
                "@retry needs a whole number for times and a number for minutes_between_retries"
            ) from None
        if not 0 <= times <= MAX_RETRIES:
            raise InvalidFlow(f"@retry(times={times}): times must be between 0 and {MAX_RETRIES}")
        if wait < 0:
            raise InvalidFlow("@retry: minutes_between_retries cannot be negative")
        self.attributes["times"] = times
        self.attributes["minutes_between_retries"] = wait

    def retries(self) -> int:
        return int(self.attributes["times"])

    def retry_wait_seconds(self) -> float:
        """The wait before a retry: none unless ``minutes_between_retries`` is given (as
        Metaflow's local runtime, which retries at once by default)."""
        if "minutes_between_retries" not in self.user_attributes:
            return 0.0
        return float(self.attributes["minutes_between_retries"]) * 60.0


retry = make_step_decorator(RetryDecorator)
