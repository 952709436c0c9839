"""Rule 4: a transition to a step that does not exist (a typo)."""

from headwater import FlowSpec, step


class UnknownTargetFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.ned)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UnknownTargetFlow()
