"""A switch that loops, with a failure injected by FAIL_AT=increment:<count> (see failmode).

end: count == 4, history == [1, 2, 3, 4]
"""

from failmode import fail_at

from headwater import FlowSpec, step


class ResumableLoopFlow(FlowSpec):
    @step
    def start(self):
        self.count = 0
        self.history = []
        self.next(self.increment)

    @step
    def increment(self):
        self.count += 1
        fail_at("increment", self.count)
        self.history = [*self.history, self.count]
        self.next(self.check)

    @step
    def check(self):
        self.state = "done" if self.count >= 4 else "again"
        self.next({"again": self.increment, "done": self.end}, condition="state")

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ResumableLoopFlow()
