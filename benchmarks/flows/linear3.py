"""linear3: start -> a -> end, each step trivial."""

from headwater import FlowSpec, step


class Linear3Flow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.a)

    @step
    def a(self):
        self.x += 1
        self.next(self.end)

    @step
    def end(self):
        assert self.x == 2


if __name__ == "__main__":
    Linear3Flow()
