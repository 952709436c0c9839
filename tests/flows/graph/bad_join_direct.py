"""Rule 8: a foreach that goes straight to its join, with no step in between."""

from headwater import FlowSpec, step


class DirectJoinFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.join, foreach="items")

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DirectJoinFlow()
