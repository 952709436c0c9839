"""Custom step decorators: wrapping order, artifacts they add, skipping, replacing, catching."""

from decorators_lib import Stamp, replace, skip, swallow, trace

from headwater import FlowSpec, step


class CustomDecoratorsFlow(FlowSpec):
    @trace(label="outer")
    @trace(label="inner")
    @step
    def start(self):
        self.trace_log = [*self.trace_log, "step:start"]
        self.items = [1, 2]
        self.next(self.each, foreach="items")

    @skip
    @step
    def each(self):
        raise RuntimeError("a skipped step never runs")
        self.next(self.join)

    @trace(label="join")
    @step
    def join(self, inputs):
        self.skipped_in = sorted(i.skipped for i in inputs)
        self.next(self.failing)

    @swallow
    @step
    def failing(self):
        raise ValueError("swallowed by the decorator")
        self.next(self.replaced_step)

    @Stamp(name="stamped")
    @replace
    @step
    def replaced_step(self):
        raise RuntimeError("a replaced step never runs")
        self.next(self.end)

    @Stamp
    @step
    def end(self):
        pass


if __name__ == "__main__":
    CustomDecoratorsFlow()
