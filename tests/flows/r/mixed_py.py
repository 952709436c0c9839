"""A Python flow with R steps: a foreach over a Python list whose body is R, a Python join,
and an R step reading a pandas DataFrame."""

import pandas as pd

from headwater import FlowSpec, r, step


class MixedPyFlow(FlowSpec):
    @step
    def start(self):
        self.grid = [1, 2, 3]
        self.frame = pd.DataFrame(
            {
                "kind": pd.Categorical(["a", "b", "a", "b"]),
                "count": pd.array([1, 2, None, 4], dtype="Int64"),
            }
        )
        self.next(self.square, foreach="grid")

    @r(file="model.R", function="square")
    @step
    def square(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.squares = [inp.sq for inp in inputs]
        self.labels = [inp.label for inp in inputs]
        self.merge_artifacts(inputs, include=["frame"])
        self.next(self.fit)

    @step
    @r(file="model.R", function="fit")
    def fit(self):
        self.next(self.end)

    @step
    def end(self):
        assert isinstance(self.per_kind, pd.DataFrame)


if __name__ == "__main__":
    MixedPyFlow()
