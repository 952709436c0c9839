"""A wide foreach of short tasks, for runs that something goes wrong under (a service killed,
a worker lost): `--width N`, each body task sleeping `--pause` seconds.

end: total == sum of 0..width-1 doubled.
"""

import time

from headwater import FlowSpec, Parameter, step


class WideForeachFlow(FlowSpec):
    width = Parameter("width", default=200)
    pause = Parameter("pause", default=0.05)

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        time.sleep(self.pause)
        self.double = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.double for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    WideForeachFlow()
