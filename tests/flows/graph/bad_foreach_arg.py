"""Rule 4: foreach= given the artifact itself instead of its name."""

from headwater import FlowSpec, step


class ForeachArgFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.body, foreach=self.items)

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachArgFlow()
