"""Every kind of parameter: typed, separator, JSON, callable default, flag, IncludeFile."""

from headwater import FlowSpec, IncludeFile, JSONType, Parameter, step


def default_label(ctx):
    return f"{ctx.flow_name}-{ctx.parameter_name}"


class ParamsFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)
    count = Parameter("count", default=3)
    person = Parameter("who", default="ann")
    verbose = Parameter("verbose", default=False)
    fast = Parameter("fast", is_flag=True, default=False)
    items = Parameter("items", default="a,b", separator=",")
    config = Parameter("config", type=JSONType, default='{"k": 1}')
    label = Parameter("label", default=default_label)
    notes = IncludeFile("notes", default="notes.txt")
    LIMIT = 10

    @step
    def start(self):
        self.seen = {
            "alpha": self.alpha,
            "count": self.count,
            "who": self.person,
            "verbose": self.verbose,
            "fast": self.fast,
            "items": self.items,
            "config": self.config,
            "label": self.label,
            "notes": self.notes,
            "limit": self.LIMIT,
        }
        print("SEEN", repr(self.seen))
        self.next(self.end)

    @step
    def end(self):
        self.alpha_in_end = self.alpha


if __name__ == "__main__":
    ParamsFlow()
