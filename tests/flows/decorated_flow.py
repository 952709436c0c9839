"""A linear flow whose middle step fails on purpose (see failmode.py); decorators via --with.

end: final == "ok" when the middle step eventually succeeds.
"""

from failmode import maybe_fail

from headwater import FlowSpec, Parameter, current, step


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
        self.leak = f"attempt {current.retry_count}"
        maybe_fail(self.mode, self.fail_times, self.counter)
        self.result = "ok"
        self.next(self.end)

    @step
    def end(self):
        self.final = getattr(self, "result", None)


if __name__ == "__main__":
    DecoratedFlow()
