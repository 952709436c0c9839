"""A straight line: start -> double -> end.

end: x == 2, y == 4
"""

from headwater import FlowSpec, step

EXPECTED = {"x": 2, "y": 4}


class LinearFlow(FlowSpec):
    """Three steps in a row, each deriving a value from the previous one."""

    @step
    def start(self):
        """Set x to 1."""
        self.x = 1
        self.next(self.double)

    @step
    def double(self):
        """Double x."""
        self.x = self.x * 2
        self.next(self.end)

    @step
    def end(self):
        """Derive y from x."""
        self.y = self.x * 2


if __name__ == "__main__":
    LinearFlow()
