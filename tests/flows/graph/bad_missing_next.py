"""Rule 3: a step whose last statement is not self.next (the call is inside an if)."""

from headwater import FlowSpec, step


class MissingNextFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.work)

    @step
    def work(self):
        self.x = 1
        if self.x:
            self.next(self.end)
        self.y = 2

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingNextFlow()
