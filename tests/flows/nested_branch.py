"""Nested static branches: a splits again inside the outer split.

end: inner == 15, total == 215
"""

from headwater import FlowSpec, step

EXPECTED = {"inner": 15, "total": 215}


class NestedBranchFlow(FlowSpec):
    """An outer split whose first branch splits again."""

    @step
    def start(self):
        self.n = 2
        self.next(self.a, self.b)

    @step
    def a(self):
        self.n_a = self.n + 1
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.v = self.n_a * 2
        self.next(self.join_a)

    @step
    def a2(self):
        self.v = self.n_a * 3
        self.next(self.join_a)

    @step
    def join_a(self, inputs):
        """Close the inner split."""
        self.v = sum(inp.v for inp in inputs)
        self.next(self.join)

    @step
    def b(self):
        self.v = self.n * 100
        self.next(self.join)

    @step
    def join(self, inputs):
        """Close the outer split."""
        self.inner = inputs.join_a.v
        self.total = sum(inp.v for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NestedBranchFlow()
