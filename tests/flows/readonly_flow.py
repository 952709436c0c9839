"""A step that assigns to a parameter or a class constant fails with a clear message."""

from headwater import FlowSpec, Parameter, step


class ReadOnlyFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)
    target = Parameter("target", default="param")
    CONSTANT = 5

    @step
    def start(self):
        if self.target == "param":
            self.alpha = 2
        else:
            self.CONSTANT = 6
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ReadOnlyFlow()
