"""A static branch: two steps run in parallel, a join combines them."""

from headwater import FlowSpec, step


class BranchFlow(FlowSpec):
    """Compute a sum and a product of the same numbers side by side."""

    NUMBERS = [3, 4, 5]

    @step
    def start(self):
        self.next(self.add, self.multiply)

    @step
    def add(self):
        self.result = sum(self.NUMBERS)
        self.next(self.join)

    @step
    def multiply(self):
        product = 1
        for n in self.NUMBERS:
            product *= n
        self.result = product
        self.next(self.join)

    @step
    def join(self, inputs):
        """Keep both results, by branch name."""
        self.results = {"sum": inputs.add.result, "product": inputs.multiply.result}
        self.next(self.end)

    @step
    def end(self):
        print("results:", self.results)


if __name__ == "__main__":
    BranchFlow()
