"""numpy_artifact: start creates a float64 array of `megabytes` MB and keeps it as an
artifact; end loads it back and sums it. `megabytes` 0 means a one-element array.

The step code times its own computation (creating the array, summing it) into the small
artifacts `create_s` and `sum_s`, so the harness can tell it apart from saving and loading.
"""

import time

import numpy as np

from headwater import FlowSpec, Parameter, step


def make_array(megabytes: int, fill: str) -> "np.ndarray":
    """Random numbers by default: incompressible, as real features and model weights are."""
    n = max(1, megabytes * 2**20 // 8)
    if fill == "ones":
        return np.ones(n, dtype=np.float64)
    if fill == "arange":
        return np.arange(n, dtype=np.float64)
    return np.random.default_rng(0).random(n)


class NumpyArtifactFlow(FlowSpec):
    megabytes = Parameter("megabytes", default=256, type=int, help="array size in MB")
    fill = Parameter("fill", default="random", help="random, arange or ones")

    @step
    def start(self):
        t = time.perf_counter()
        arr = make_array(self.megabytes, self.fill)
        self.create_s = time.perf_counter() - t
        self.arr = arr
        self.next(self.end)

    @step
    def end(self):
        arr = self.arr  # loads the artifact
        t = time.perf_counter()
        self.total = float(arr.sum())
        self.sum_s = time.perf_counter() - t


if __name__ == "__main__":
    NumpyArtifactFlow()
