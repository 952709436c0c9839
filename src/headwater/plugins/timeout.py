"""``@timeout``: stop an attempt that runs too long; retry and catch then apply.

The task raises :class:`~headwater.exceptions.StepTimedOut` inside the step when the time is
up (a timer signal, as Metaflow does), so the attempt fails like any other: what the step
assigned before is saved, and ``@catch`` keeps the exception. Child processes the step
started are stopped when the task ends. The runtime stays the backstop: an attempt that is
still running a moment after its time (stuck where a signal cannot reach it) is killed with
its whole process group.
"""

from __future__ import annotations

from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import InvalidFlow, StepTimedOut

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class TimeoutDecorator(StepDecorator):
    """Stop the attempt after seconds + minutes + hours."""

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

    # --- in the task ----------------------------------------------------------------------------
    def task_pre_step(self, flow: Any, step_name: str, retry_count: int) -> None:
        import signal  # here: only tasks of @timeout steps need it

        total = self._total
        self._fired = False

        def expire(signum: int, frame: Any) -> None:
            self._fired = True
            raise StepTimedOut(f"step '{step_name}' timed out after {_seconds(total)} (@timeout)")

        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, total)

    def task_post_step(self, flow: Any, step_name: str) -> None:
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)

    def task_finished(
        self, flow: Any, step_name: str, ok: bool, datastore: Any, attempt: Any
    ) -> None:
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)
        if getattr(self, "_fired", False):
            _stop_children()


def _stop_children() -> None:
    """SIGTERM every other process of this task's process group (the task leads its own),
    so that what the timed-out step started does not outlive it."""
    import os
    import signal

    try:
        group = os.getpgid(0)
    except OSError:
        return
    if group != os.getpid():
        return  # not the leader of its own group: the group is not the task's alone
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.killpg(group, signal.SIGTERM)
    except OSError:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _seconds(s: float) -> str:
    return f"{s:g} s" if s < 120 else f"{s / 60:g} min"


timeout = make_step_decorator(TimeoutDecorator)
