"""Shared by the decorated_* flows: fail an attempt in the way a parameter asks for."""

import os
import time

from headwater import DoNotRetry, current


def maybe_fail(mode: str, fail_times: int, counter: str) -> None:
    """Record the attempt, then fail it unless `fail_times` attempts have failed already
    or the environment says the bug is fixed (FAILMODE_FIXED=1, for resume tests)."""
    with open(counter, "a") as fh:
        fh.write(f"{current.step_name} {current.retry_count}\n")
    if current.retry_count >= fail_times or os.environ.get("FAILMODE_FIXED"):
        return
    if mode == "raise":
        raise ValueError(f"failure in attempt {current.retry_count}")
    if mode == "exit":
        os._exit(3)
    if mode == "segfault":
        import ctypes

        ctypes.string_at(0)
    if mode == "sleep":
        time.sleep(60)
    if mode == "noretry":
        raise DoNotRetry("this input can never work")
    if mode == "exit202":
        os._exit(202)


def fail_at(step: str, index=None) -> None:
    """Fail when FAIL_AT names this step (``step`` or ``step:index``): a bug to fix and resume.

    STEP_SLEEP=seconds makes every such step take a while (for kill and interrupt tests)."""
    pause = os.environ.get("STEP_SLEEP")
    if pause:
        time.sleep(float(pause))
    where = os.environ.get("FAIL_AT", "")
    if where in (step, f"{step}:{index}"):
        raise RuntimeError(f"injected failure at {where}")
