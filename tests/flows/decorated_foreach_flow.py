"""A foreach whose body (middle) fails on purpose in split 1 only; decorators via --with."""

from failmode import maybe_fail

from headwater import FlowSpec, Parameter, current, step


class DecoratedForeachFlow(FlowSpec):
    mode = Parameter("mode", default="raise")
    fail_times = Parameter("fail-times", default=99)
    counter = Parameter("counter", default="attempts.txt")

    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.middle, foreach="items")

    @step
    def middle(self):
        self.leak = f"attempt {current.retry_count}"
        if self.input == 1:
            maybe_fail(self.mode, self.fail_times, self.counter)
        self.result = "ok"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = [getattr(i, "result", None) for i in inputs]
        self.final = inputs[1].result if "result" in inputs[1] else None
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DecoratedForeachFlow()
