"""Rule 1: two start steps (one named start, one marked start=True)."""

from headwater import FlowSpec, step


class TwoStartsFlow(FlowSpec):
    @step(start=True)
    def begin(self):
        self.next(self.end)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TwoStartsFlow()
