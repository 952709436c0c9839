"""A step that starts a child process and then hangs: @timeout must stop both."""

import subprocess
import sys
import time

from headwater import FlowSpec, Parameter, step, timeout


class TimeoutChildrenFlow(FlowSpec):
    pidfile = Parameter("pidfile", default="child.pid")

    @timeout(seconds=1)
    @step
    def start(self):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        with open(self.pidfile, "w") as fh:
            fh.write(str(child.pid))
        time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TimeoutChildrenFlow()
