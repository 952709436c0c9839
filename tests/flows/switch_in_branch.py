"""A switch inside one branch of a static split; its arms meet before the join.

end: x == 3, rs == ["ODD", "right"]
"""

from headwater import FlowSpec, step

EXPECTED = {"x": 3, "rs": ["ODD", "right"]}


class SwitchInBranchFlow(FlowSpec):
    """The left branch chooses by parity; the right branch is plain."""

    @step
    def start(self):
        self.x = 3
        self.next(self.left, self.right)

    @step
    def left(self):
        self.parity = "odd" if self.x % 2 else "even"
        self.next({"odd": self.odd, "even": self.even}, condition="parity")

    @step
    def odd(self):
        self.r = "odd"
        self.next(self.left_done)

    @step
    def even(self):
        self.r = "even"
        self.next(self.left_done)

    @step
    def left_done(self):
        self.r = self.r.upper()
        self.next(self.join)

    @step
    def right(self):
        self.r = "right"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.rs = [inp.r for inp in inputs]
        self.merge_artifacts(inputs, include=["x"])
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchInBranchFlow()
