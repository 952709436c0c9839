"""A switch: the value of self.mode picks one of two steps; both lead to end.

end: mode == "fast", result == "quick", summary == "fast:quick"
"""

from headwater import FlowSpec, step

EXPECTED = {"mode": "fast", "result": "quick", "summary": "fast:quick"}


class SwitchFlow(FlowSpec):
    """Only the chosen branch runs."""

    @step
    def start(self):
        self.mode = "fast"
        self.next({"fast": self.quick, "slow": self.careful}, condition="mode")

    @step
    def quick(self):
        self.result = "quick"
        self.next(self.end)

    @step
    def careful(self):
        self.result = "careful"
        self.next(self.end)

    @step
    def end(self):
        """Not a join: only one branch ran."""
        self.summary = f"{self.mode}:{self.result}"


if __name__ == "__main__":
    SwitchFlow()
