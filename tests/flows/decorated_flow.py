"""@retry, @catch and @timeout, driven by parameters so one file covers every combination.

`mode` picks how the middle step fails: raise, exit (os._exit), segfault, sleep (too long for
@timeout), noretry (raises DoNotRetry), ok. `fail_times` is how many attempts fail before one
succeeds (counted in a file next to the run). The decorators in force come from --with.
"""

import os
import time

from headwater import DoNotRetry, FlowSpec, Parameter, current, step


class DecoratedFlow(FlowSpec):
    mode = Parameter("mode", default="raise")
    fail_times = Parameter("fail-times", default=99)
    counter = Parameter("counter", default="attempts.txt")

    @step
    def start(self):
        self.before = "start"
        self.next(self.middle)

    @step
    def middle(self):
        with open(self.counter, "a") as fh:
            fh.write(f"{current.retry_count}\n")
        self.attempt_seen = current.retry_count
        self.leak = f"attempt {current.retry_count}"
        if current.retry_count < self.fail_times:
            if self.mode == "raise":
                raise ValueError(f"failure in attempt {current.retry_count}")
            if self.mode == "exit":
                os._exit(3)
            if self.mode == "segfault":
                import ctypes

                ctypes.string_at(0)
            if self.mode == "sleep":
                time.sleep(60)
            if self.mode == "noretry":
                raise DoNotRetry("this input can never work")
            if self.mode == "exit202":
                os._exit(202)
        self.result = "ok"
        self.next(self.end)

    @step
    def end(self):
        self.final = getattr(self, "result", None)


if __name__ == "__main__":
    DecoratedFlow()
