"""A switch inside a foreach body, on a bool artifact; its arms meet before the join.

end: nums == [1, 5, 10], labels == ["0:small1", "1:big5", "2:big10"]
"""

from headwater import FlowSpec, step

EXPECTED = {"nums": [1, 5, 10], "labels": ["0:small1", "1:big5", "2:big10"]}


class SwitchInForeachFlow(FlowSpec):
    """Each number is labelled big or small by its own branch."""

    @step
    def start(self):
        self.nums = [1, 5, 10]
        self.next(self.classify, foreach="nums")

    @step
    def classify(self):
        self.value = self.input
        self.is_big = self.value > 3
        self.next({True: self.big, False: self.small}, condition="is_big")

    @step
    def big(self):
        self.label = f"big{self.value}"
        self.next(self.collect)

    @step
    def small(self):
        self.label = f"small{self.value}"
        self.next(self.collect)

    @step
    def collect(self):
        """Where the switch arms meet, still inside the foreach (self.index works here)."""
        self.label = f"{self.index}:{self.label}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.labels = [inp.label for inp in inputs]
        self.merge_artifacts(inputs, include=["nums"])
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchInForeachFlow()
