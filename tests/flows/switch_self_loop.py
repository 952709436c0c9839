"""A switch that loops back to its own step: grow a list until it has 3 items.

end: items == [0, 1, 2], state == "done"
"""

from headwater import FlowSpec, step

EXPECTED = {"items": [0, 1, 2], "state": "done"}


class SwitchSelfLoopFlow(FlowSpec):
    """grow runs three times, choosing itself until the list is long enough."""

    @step
    def start(self):
        self.items = []
        self.next(self.grow)

    @step
    def grow(self):
        self.items = self.items + [len(self.items)]
        self.state = "done" if len(self.items) >= 3 else "more"
        self.next({"more": self.grow, "done": self.end}, condition="state")

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchSelfLoopFlow()
