"""Output from Python, from C-level writes and from a child process all reach the logs."""

import os
import subprocess
import sys

from headwater import FlowSpec, step


class OutputFlow(FlowSpec):
    @step
    def start(self):
        print("python stdout line")
        print("python stderr line", file=sys.stderr)
        os.write(1, b"raw fd1 line\n")
        os.write(2, b"raw fd2 line\n")
        subprocess.run([sys.executable, "-c", "print('child process line')"], check=True)
        self.next(self.end)

    @step
    def end(self):
        print("no newline at end", end="")


if __name__ == "__main__":
    OutputFlow()
