"""Rule 8: switch arms meet at a step that takes inputs, but no split came before."""

from headwater import FlowSpec, step


class JoinNoSplitFlow(FlowSpec):
    @step
    def start(self):
        self.mode = "x"
        self.next({"x": self.a, "y": self.b}, condition="mode")

    @step
    def a(self):
        self.next(self.meet)

    @step
    def b(self):
        self.next(self.meet)

    @step
    def meet(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    JoinNoSplitFlow()
