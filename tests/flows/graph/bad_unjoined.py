"""Rule 6: both branches of a split go straight to end."""

from headwater import FlowSpec, step


class UnjoinedFlow(FlowSpec):
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
    def end(self):
        pass


if __name__ == "__main__":
    UnjoinedFlow()
