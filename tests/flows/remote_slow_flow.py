"""A step that says it started, writes its process id to ``--pid-file`` and waits: for testing
that a remote executor streams a running task's output and stops it on Ctrl-C."""

import os
import time

from headwater import FlowSpec, Parameter, step


class RemoteSlowFlow(FlowSpec):
    seconds = Parameter("seconds", default=60.0)
    pid_file = Parameter("pid-file", default="")

    @step
    def start(self):
        print("started", flush=True)
        with open(self.pid_file, "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(self.seconds)
        print("finished", flush=True)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RemoteSlowFlow()
