"""A foreach over three items, squared in parallel and summed.

end: items == [1, 2, 3], squares == [1, 4, 9], total == 14
"""

from headwater import FlowSpec, step

EXPECTED = {"items": [1, 2, 3], "squares": [1, 4, 9], "total": 14}


class ForeachFlow(FlowSpec):
    """One task per item."""

    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.square, foreach="items")

    @step
    def square(self):
        """Square this task's item."""
        self.sq = self.input**2
        self.next(self.join)

    @step
    def join(self, inputs):
        """Gather the squares in item order."""
        self.squares = [inp.sq for inp in inputs]
        self.total = sum(self.squares)
        self.merge_artifacts(inputs, exclude=["sq"])
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachFlow()
