"""Shared by the decorated_* flows: fail an attempt in the way a parameter asks for."""

import os
import time

from headwater import DoNotRetry, current


def maybe_fail(mode: str, fail_times: int, counter: str) -> None:
    """Record the attempt, then fail it unless `fail_times` attempts have failed already."""
    with open(counter, "a") as fh:
        fh.write(f"{current.step_name} {current.retry_count}\n")
    if current.retry_count >= fail_times:
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
