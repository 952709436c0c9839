"""Rule 8: two branches meet at a step without an inputs argument."""

from headwater import FlowSpec, step


class NotAJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.meet)

    @step
    def b(self):
        self.next(self.meet)

    @step
    def meet(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NotAJoinFlow()
