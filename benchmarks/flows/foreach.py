"""foreach: start makes a list of `width` ints, a trivial body runs once per item, join, end."""

from headwater import FlowSpec, Parameter, step


class ForeachFlow(FlowSpec):
    width = Parameter("width", default=100, type=int, help="number of foreach tasks")

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.y = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.y for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        assert self.total == self.width * (self.width - 1)


if __name__ == "__main__":
    ForeachFlow()
