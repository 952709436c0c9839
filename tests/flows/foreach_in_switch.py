"""A foreach inside one arm of a switch; the arms meet again at a plain step.

end: mode == "many", items == [1, 2, 3], total == 9, answer == 18
"""

from headwater import FlowSpec, step

EXPECTED = {"mode": "many", "items": [1, 2, 3], "total": 9, "answer": 18}


class ForeachInSwitchFlow(FlowSpec):
    """The "many" arm fans out over items; the "one" arm does not."""

    @step
    def start(self):
        self.mode = "many"
        self.next({"many": self.fan, "one": self.single}, condition="mode")

    @step
    def fan(self):
        self.items = [1, 2, 3]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.w = self.input + 1
        self.next(self.join_fan)

    @step
    def join_fan(self, inputs):
        self.total = sum(inp.w for inp in inputs)
        self.merge_artifacts(inputs, exclude=["w"])
        self.next(self.finish)

    @step
    def single(self):
        self.items = [1]
        self.total = 1
        self.next(self.finish)

    @step
    def finish(self):
        """Where the switch arms meet: not a join."""
        self.answer = self.total * 2
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachInSwitchFlow()
