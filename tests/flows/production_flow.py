"""A flow to deploy: parameters of each kind, a step that fails once and is retried, a timeout.

end: seen holds the parameters; flaky.attempt is 1 when fail-file names a missing file.
"""

import os

from headwater import FlowSpec, JSONType, Parameter, current, retry, step, timeout


class ProductionFlow(FlowSpec):
    """Deployed to Airflow and Argo Workflows by the tests."""

    alpha = Parameter("alpha", default=0.5, help="a number")
    who = Parameter("who", default="ann")
    fast = Parameter("fast", is_flag=True, default=False)
    extra = Parameter("extra", type=JSONType, default='{"k": 1}')
    fail_file = Parameter("fail-file", default="")

    @step
    def start(self):
        self.seen = {"alpha": self.alpha, "who": self.who, "fast": self.fast, "extra": self.extra}
        self.next(self.flaky)

    @retry(times=2, minutes_between_retries=0)
    @timeout(seconds=60)
    @step
    def flaky(self):
        self.attempt = current.retry_count
        if self.fail_file and not os.path.exists(self.fail_file):
            with open(self.fail_file, "w") as fh:
                fh.write("failed once")
            raise ValueError("the first attempt fails")
        self.next(self.end)

    @step
    def end(self):
        self.tags = sorted(current.tags)


if __name__ == "__main__":
    ProductionFlow()
