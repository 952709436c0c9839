"""A large array saved in start, used in `touch` as `change` says, checked in end."""

import numpy as np

from headwater import FlowSpec, Parameter, step


class BigArrayFlow(FlowSpec):
    mb = Parameter("mb", default=40, type=int, help="array size in MB")
    change = Parameter("change", default="none", help="none, element, reshape or replace")

    @step
    def start(self):
        self.arr = np.arange(self.mb * 2**20 // 8, dtype=np.float64)
        self.next(self.touch)

    @step
    def touch(self):
        arr = self.arr
        if self.change == "element":
            arr[7] = -1.0
        elif self.change == "reshape":
            arr.shape = (arr.size // 2, 2)
        elif self.change == "replace":
            self.arr = arr * 2
        self.next(self.end)

    @step
    def end(self):
        assert self.arr is not None


if __name__ == "__main__":
    BigArrayFlow()
