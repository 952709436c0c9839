"""Rule 8: a join fed by one branch of a split; the other branch goes to a second join."""

from headwater import FlowSpec, step


class MissingBranchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join_a)

    @step
    def join_a(self, inputs):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingBranchFlow()
