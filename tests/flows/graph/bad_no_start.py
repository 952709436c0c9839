"""Rule 1: there is no start step (the first step is called begin)."""

from headwater import FlowSpec, step


class NoStartFlow(FlowSpec):
    @step
    def begin(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NoStartFlow()
