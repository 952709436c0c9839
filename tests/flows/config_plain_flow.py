"""Plain configs (Config(..., plain=True)): any value, given to steps as it is."""

from headwater import Config, FlowSpec, Parameter, retry, step


class ConfigPlainFlow(FlowSpec):
    hosts = Config("hosts", default_value='["a", "b"]', plain=True)  # a list, from JSON text
    limits = Config("limits", default_value={"retries": 1}, plain=True)  # a plain dict
    motto = Config("motto", default_value="hello", parser=str.upper, plain=True)  # a str
    first = Parameter("first", default=hosts[0])

    @retry(times=limits["retries"], minutes_between_retries=0)
    @step
    def start(self):
        self.seen = {
            "hosts": self.hosts,
            "hosts_type": type(self.hosts).__name__,
            "limits_type": type(self.limits).__name__,
            "motto": self.motto,
            "first": self.first,
        }
        self.deco_args = {d.name: dict(d.attributes) for d in type(self).start.decorators}
        self.limits["retries"] = 99  # a plain value can be changed in the step; not saved
        print("SEEN", self.seen)
        self.next(self.end)

    @step
    def end(self):
        self.limits_in_end = self.limits


if __name__ == "__main__":
    ConfigPlainFlow()
