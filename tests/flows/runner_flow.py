"""A flow for the Runner API: parameters of every kind; RUNNER_FLOW_FAIL=1 fails `middle`,
RUNNER_FLOW_SLEEP=S makes `start` sleep S seconds."""

import os
import time

from headwater import FlowSpec, JSONType, Parameter, step


class RunnerFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)
    flag = Parameter("flag", is_flag=True)
    switch = Parameter("switch", default=False)
    items = Parameter("items", default="a", separator=",")
    cfg = Parameter("cfg", type=JSONType, default='{"k": 1}')
    num_rows = Parameter("num_rows", default=3)

    @step
    def start(self):
        print(f"alpha is {self.alpha}")
        time.sleep(float(os.environ.get("RUNNER_FLOW_SLEEP", "0")))
        self.values = {
            "alpha": self.alpha,
            "flag": self.flag,
            "switch": self.switch,
            "items": self.items,
            "cfg": self.cfg,
            "num_rows": self.num_rows,
        }
        self.next(self.middle)

    @step
    def middle(self):
        if os.environ.get("RUNNER_FLOW_FAIL"):
            raise ValueError("middle was asked to fail")
        self.doubled = self.alpha * 2
        self.next(self.end)

    @step
    def end(self):
        print("done")


if __name__ == "__main__":
    RunnerFlow()
