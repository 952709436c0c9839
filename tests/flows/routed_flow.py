"""One step asks for another executor through its decorator: it runs as a new process
(`step` on its command line) while the others are forks of the runtime's zygote."""

import sys

from headwater import FlowSpec, StepDecorator, step
from headwater.core.decorators import make_step_decorator


class InSubprocess(StepDecorator):
    """Run this step with the subprocess executor."""

    name = "in_subprocess"

    def executor_name(self):
        return "subprocess"


in_subprocess = make_step_decorator(InSubprocess)


def how() -> str:
    return "subprocess" if "step" in sys.argv else "fork"


class RoutedFlow(FlowSpec):
    @step
    def start(self):
        self.how = {"start": how()}
        self.next(self.elsewhere)

    @in_subprocess
    @step
    def elsewhere(self):
        self.how = {**self.how, "elsewhere": how()}
        self.next(self.end)

    @step
    def end(self):
        self.how = {**self.how, "end": how()}


if __name__ == "__main__":
    RoutedFlow()
