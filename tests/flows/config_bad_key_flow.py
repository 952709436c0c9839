"""A decorator argument that reads a key its config does not have."""

from headwater import Config, FlowSpec, retry, step


class ConfigBadKeyFlow(FlowSpec):
    cfg = Config("cfg", default_value={"retries": 1})

    @retry(times=cfg.retrys)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ConfigBadKeyFlow()
