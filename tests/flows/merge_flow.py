"""merge_artifacts: equal values merge, differing ones conflict, include/exclude select."""

from headwater import FlowSpec, Parameter, step


class MergeFlow(FlowSpec):
    mode = Parameter("mode", default="ok")

    @step
    def start(self):
        self.shared = "same"
        self.next(self.a, self.b)

    @step
    def a(self):
        self.only_a = 1
        self.differs = "from a"
        self.next(self.join)

    @step
    def b(self):
        self.differs = "from b"
        self.next(self.join)

    @step
    def join(self, inputs):
        if self.mode == "ok":
            self.merge_artifacts(inputs, exclude=["differs"])
        elif self.mode == "conflict":
            self.merge_artifacts(inputs)
        elif self.mode == "both":
            self.merge_artifacts(inputs, include=["shared"], exclude=["differs"])
        elif self.mode == "missing":
            self.merge_artifacts(inputs, include=["nowhere"])
        elif self.mode == "set_first":
            self.differs = "chosen"
            self.merge_artifacts(inputs)
        self.upstream_visible = hasattr(self, "never_set")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MergeFlow()
