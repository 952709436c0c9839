"""A Python flow whose R step's script loads an R package that is not installed."""

from headwater import FlowSpec, r, step


class NeedsPkgFlow(FlowSpec):
    @r(file="needs_pkg.R", function="start_r")
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NeedsPkgFlow()
