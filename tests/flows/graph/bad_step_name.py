"""Rule 2: a step name with capitals and a reserved step name."""

from headwater import FlowSpec, step


class BadNameFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.Process)

    @step
    def Process(self):  # noqa: N802 - the point of this file
        self.next(self.cmd)

    @step
    def cmd(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BadNameFlow()
