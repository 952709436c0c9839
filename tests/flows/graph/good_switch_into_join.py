"""A valid shape (graph tests only): inside one branch of a split, a switch's arms go
straight to the join, so the join has three incoming steps but two inputs at run time."""

from headwater import FlowSpec, step


class SwitchIntoJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = "up"
        self.next({"up": self.up, "down": self.down}, condition="side")

    @step
    def up(self):
        self.next(self.join)

    @step
    def down(self):
        self.next(self.join)

    @step
    def right(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchIntoJoinFlow()
