"""Failures a remote executor must treat as the local runtime does: a step that fails once and
is retried, one whose failure @catch keeps, one that runs past its @timeout, and one whose
worker process dies under it (``FAIL=worker``: it kills its parent, the process that supervises
it on the cluster) on the first attempt."""

import os
import signal
import time

from headwater import FlowSpec, Parameter, catch, current, retry, step, timeout


class RemoteFailuresFlow(FlowSpec):
    fail = Parameter("fail", default="retry", help="retry | worker")

    @retry(times=1, minutes_between_retries=0)
    @step
    def start(self):
        if current.retry_count == 0:
            if self.fail == "worker":
                os.kill(os.getppid(), signal.SIGKILL)  # the supervising worker dies
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
