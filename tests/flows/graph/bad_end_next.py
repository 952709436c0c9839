"""Rule 3: the end step calls self.next."""

from headwater import FlowSpec, step


class EndNextFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        self.next(self.start)


if __name__ == "__main__":
    EndNextFlow()
