"""A flow whose middle step raises; and one that dies hard, by a parameter."""

import os

from headwater import FlowSpec, Parameter, step


class FailingFlow(FlowSpec):
    how = Parameter("how", default="raise")

    @step
    def start(self):
        self.before = "kept"
        self.next(self.boom)

    @step
    def boom(self):
        self.partial = 1
        if self.how == "raise":
            raise ValueError("bad value 42")
        if self.how == "exit":
            os._exit(3)
        if self.how == "segfault":
            import ctypes

            ctypes.string_at(0)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FailingFlow()
