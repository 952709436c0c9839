"""A static branch where one arm (middle) fails on purpose; decorators via --with."""

from failmode import maybe_fail

from headwater import FlowSpec, Parameter, current, step


class DecoratedBranchFlow(FlowSpec):
    mode = Parameter("mode", default="raise")
    fail_times = Parameter("fail-times", default=99)
    counter = Parameter("counter", default="attempts.txt")

    @step
    def start(self):
        self.next(self.middle, self.other)

    @step
    def middle(self):
        self.leak = f"attempt {current.retry_count}"
        maybe_fail(self.mode, self.fail_times, self.counter)
        self.result = "ok"
        self.next(self.join)

    @step
    def other(self):
        self.result = "ok"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = [getattr(i, "result", None) for i in inputs]
        self.final = inputs.middle.result if "result" in inputs.middle else None
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DecoratedBranchFlow()
