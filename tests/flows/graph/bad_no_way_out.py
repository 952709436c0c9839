"""Rule 5: a switch loop whose every case loops, so end is never reached."""

from headwater import FlowSpec, step


class NoWayOutFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.spin)

    @step
    def spin(self):
        self.again = "yes"
        self.next({"yes": self.spin, "no": self.spin}, condition="again")

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NoWayOutFlow()
