"""Rule 9: a loop that does not go through a switch."""

from headwater import FlowSpec, step


class CycleFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.next(self.b)

    @step
    def b(self):
        self.next(self.a)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CycleFlow()
