"""A static branch: start splits into add and mul, join sums them.

end: x == 10, added == 11, multiplied == 20, total == 31
"""

from headwater import FlowSpec, step

EXPECTED = {"x": 10, "added": 11, "multiplied": 20, "total": 31}


class BranchFlow(FlowSpec):
    """Two branches computed in parallel, then joined."""

    @step
    def start(self):
        """Set x and split."""
        self.x = 10
        self.next(self.add, self.mul)

    @step
    def add(self):
        self.r = self.x + 1
        self.next(self.join)

    @step
    def mul(self):
        self.r = self.x * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        """Collect both results; x is the same in both branches."""
        self.added = inputs.add.r
        self.multiplied = inputs.mul.r
        self.total = sum(inp.r for inp in inputs)
        self.merge_artifacts(inputs, exclude=["r"])
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BranchFlow()
