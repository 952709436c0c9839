"""A valid shape (graph tests only): num_parallel= to a @parallel step, then a join.

The @parallel stand-in below only records itself the way step decorators do.
"""

from types import SimpleNamespace

from headwater import FlowSpec, step


def parallel(func):
    func.decorators.append(SimpleNamespace(name="parallel"))
    return func


class ParallelFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=4)

    @parallel
    @step
    def train(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParallelFlow()
