"""A config whose value does not pickle (a lock), so it cannot be saved with the run."""

import threading

from headwater import Config, FlowSpec, step


class ConfigUnpicklableFlow(FlowSpec):
    cfg = Config("cfg", default_value={"lock": threading.Lock()})

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ConfigUnpicklableFlow()
