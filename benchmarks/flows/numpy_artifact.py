"""numpy_artifact: start creates a float64 array of `megabytes` MB and keeps it as an
artifact; end loads it back and sums it. `megabytes` 0 means a one-element array."""

import numpy as np

from headwater import FlowSpec, Parameter, step


def make_array(megabytes: int, fill: str) -> "np.ndarray":
    n = max(1, megabytes * 2**20 // 8)
    if fill == "ones":
        return np.ones(n, dtype=np.float64)
    if fill == "arange":
        return np.arange(n, dtype=np.float64)
    return np.random.default_rng(0).random(n)


class NumpyArtifactFlow(FlowSpec):
    megabytes = Parameter("megabytes", default=256, type=int, help="array size in MB")
    fill = Parameter("fill", default="arange", help="ones, arange or random")

    @step
    def start(self):
        self.arr = make_array(self.megabytes, self.fill)
        self.next(self.end)

    @step
    def end(self):
        self.total = float(self.arr.sum())


if __name__ == "__main__":
    NumpyArtifactFlow()
