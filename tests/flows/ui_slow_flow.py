"""A run that takes a few seconds (so a page can watch it finish): a foreach whose tasks
sleep, then a join."""

import time

from headwater import FlowSpec, Parameter, step


class UiSlowFlow(FlowSpec):
    pause = Parameter("pause", default=0.8)

    @step
    def start(self):
        time.sleep(self.pause)
        self.items = [1, 2, 3]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        print(f"working on {self.input}", flush=True)
        time.sleep(self.pause)
        self.out = self.input * 10
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.out for i in inputs)
        time.sleep(self.pause)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UiSlowFlow()
