"""Every place the UI shows user text gets HTML and script: parameters, artifacts (plain, in a
list, a DataFrame cell and column name), stdout and stderr lines, and, with --fail yes, the
exception message. Run it with an HTML --tag too."""

import sys

from headwater import FlowSpec, Parameter, step

PAYLOAD = '<script>alert("xss")</script><img src=x onerror="alert(1)"><b>bold</b>'


class UiXssFlow(FlowSpec):
    note = Parameter("note", default=PAYLOAD)
    fail = Parameter("fail", default="no")

    @step
    def start(self):
        import numpy as np
        import pandas as pd

        self.html = PAYLOAD
        self.nested = [PAYLOAD, {"k": PAYLOAD}]
        self.frame = pd.DataFrame({"n": [1, 2], "<i>col</i>": [PAYLOAD, "plain"]})
        self.matrix = np.arange(12).reshape(3, 4)
        print("out " + PAYLOAD)
        print("err " + PAYLOAD, file=sys.stderr)
        self.next(self.end)

    @step
    def end(self):
        if self.fail == "yes":
            raise ValueError(PAYLOAD)


if __name__ == "__main__":
    UiXssFlow()
