"""Rule 10: the end step takes inputs (it is a join)."""

from headwater import FlowSpec, step


class EndJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.end)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self, inputs):
        pass


if __name__ == "__main__":
    EndJoinFlow()
