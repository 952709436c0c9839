"""A foreach whose tasks log when they run, to check --max-workers and --max-num-splits."""

import os
import time

from headwater import FlowSpec, Parameter, step


class WorkersFlow(FlowSpec):
    width = Parameter("width", default=6)
    log = Parameter("log", default="")

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        if self.log:
            with open(self.log, "a") as fh:
                fh.write(f"start {time.time()} {os.getpid()}\n")
            time.sleep(0.2)
            with open(self.log, "a") as fh:
                fh.write(f"end {time.time()} {os.getpid()}\n")
        if os.environ.get("FAIL_INDEX") == str(self.input):
            raise RuntimeError(f"injected failure in split {self.input}")
        self.double = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.doubles = [i.double for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    WorkersFlow()
