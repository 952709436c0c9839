"""Rule 8: a join fed by a branch of an inner split and a branch of the outer split."""

from headwater import FlowSpec, step


class UnrelatedJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.next(self.mix)

    @step
    def a2(self):
        self.next(self.mix)

    @step
    def b(self):
        self.next(self.mix)

    @step
    def mix(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UnrelatedJoinFlow()
