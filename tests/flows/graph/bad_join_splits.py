"""Rule 7: a join whose self.next splits again."""

from headwater import FlowSpec, step


class JoinSplitsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.c, self.d)

    @step
    def c(self):
        self.next(self.join2)

    @step
    def d(self):
        self.next(self.join2)

    @step
    def join2(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    JoinSplitsFlow()
