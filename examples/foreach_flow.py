"""A foreach: one task per item, then a join that gathers every result."""

from headwater import FlowSpec, Parameter, step


class SquaresFlow(FlowSpec):
    """Square numbers in parallel and add them up."""

    count = Parameter("count", default=10, help="how many numbers to square")

    @step
    def start(self):
        self.numbers = list(range(1, self.count + 1))
        self.next(self.square, foreach="numbers")

    @step
    def square(self):
        """One task per number."""
        self.squared = self.input * self.input
        print(f"{self.input}^2 = {self.squared}")
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.total = sum(i.squared for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("sum of squares:", self.total)


if __name__ == "__main__":
    SquaresFlow()
