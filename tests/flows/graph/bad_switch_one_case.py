"""Rule 4: a switch with a single case."""

from headwater import FlowSpec, step


class OneCaseFlow(FlowSpec):
    @step
    def start(self):
        self.mode = "a"
        self.next({"a": self.end}, condition="mode")

    @step
    def end(self):
        pass


if __name__ == "__main__":
    OneCaseFlow()
