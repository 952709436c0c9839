"""Mutators: a flow mutator adds a parameter and decorators and removes one; a step mutator
adds decorators read from a config."""

import os

from decorators_lib import add_trace, tidy_flow

from headwater import Config, FlowSpec, catch, current, step


@tidy_flow(greeting="hi")
class MutatorsFlow(FlowSpec):
    settings = Config("settings", default_value={"retries": 1, "label": "from-config"})

    @catch(var="err")
    @step
    def start(self):
        self.env_step = os.environ.get("TIDY_STEP")
        self.next(self.flaky)

    @add_trace("mutated")
    @step
    def flaky(self):
        self.attempt = current.retry_count
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails; the mutator added @retry")
        self.next(self.end)

    @step
    def end(self):
        self.greeting = self.added


if __name__ == "__main__":
    MutatorsFlow()
