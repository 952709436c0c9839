"""A flow that names its step decorators by string, as flows written in R do
(headwater.plugins.r_step.named_decorator). The start step fails on its first attempt."""

import os

from headwater import FlowSpec, current, step
from headwater.plugins.r_step import named_decorator


class NamedDecoratorFlow(FlowSpec):
    @named_decorator(os.environ.get("NAMED_DECORATOR", "retry"), times=1, minutes_between_retries=0)
    @step
    def start(self):
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails")
        self.attempt = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NamedDecoratorFlow()
