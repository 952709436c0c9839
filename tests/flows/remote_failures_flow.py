"""Failures a remote executor must treat as the local runtime does: a step that fails once and
is retried, one whose failure @catch keeps, one that runs past its @timeout, and one whose
worker process dies under it on the first attempt (``--fail worker``: it kills the nearest
process above it named ``ray::...``, the Ray worker that runs it)."""

import os
import signal
import time

from headwater import FlowSpec, Parameter, catch, current, retry, step, timeout


def ray_worker() -> int:
    pid = os.getppid()
    while pid > 1:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if fh.read().startswith(b"ray::"):
                return pid
        with open(f"/proc/{pid}/stat") as fh:
            pid = int(fh.read().rsplit(")", 1)[1].split()[1])
    raise RuntimeError("not running under a Ray worker")


class RemoteFailuresFlow(FlowSpec):
    fail = Parameter("fail", default="retry", help="retry | worker")

    @retry(times=1, minutes_between_retries=0)
    @step
    def start(self):
        if current.retry_count == 0:
            if self.fail == "worker":
                os.kill(ray_worker(), signal.SIGKILL)
                time.sleep(30)
            raise RuntimeError("first attempt fails")
        self.attempts = current.retry_count + 1
        self.next(self.caught)

    @catch(var="error")
    @step
    def caught(self):
        raise ValueError("always fails")
        self.next(self.slow)  # unreachable; the graph reads it

    @catch(var="late")
    @timeout(seconds=2)
    @step
    def slow(self):
        time.sleep(60)
        self.next(self.end)

    @step
    def end(self):
        self.summary = {
            "attempts": self.attempts,
            "error": str(self.error),
            "late": str(self.late),
        }


if __name__ == "__main__":
    RemoteFailuresFlow()
