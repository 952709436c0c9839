"""A loop through a switch back to an earlier step: count to 3.

end: count == 3, state == "done", final == 30
"""

from headwater import FlowSpec, step

EXPECTED = {"count": 3, "state": "done", "final": 30}


class SwitchLoopFlow(FlowSpec):
    """increment runs three times; check decides whether to go round again."""

    @step
    def start(self):
        self.count = 0
        self.next(self.increment)

    @step
    def increment(self):
        self.count += 1
        self.next(self.check)

    @step
    def check(self):
        """Loop back to increment until count reaches 3."""
        self.state = "done" if self.count >= 3 else "again"
        self.next({"again": self.increment, "done": self.end}, condition="state")

    @step
    def end(self):
        self.final = self.count * 10


if __name__ == "__main__":
    SwitchLoopFlow()
