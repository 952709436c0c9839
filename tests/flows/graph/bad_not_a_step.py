"""Rule 4: a transition to a method that lacks @step."""

from headwater import FlowSpec, step


class NotAStepFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.middle)

    def middle(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NotAStepFlow()
