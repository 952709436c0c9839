"""@catch on a @parallel step whose tasks all die: the control task keeps the failure, the
workers are left out of the join, and the run goes on."""

import os
import signal

from headwater import FlowSpec, catch, current, parallel, retry, step


class ParallelCatchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=3)

    @catch(var="err")
    @retry(times=1)
    @parallel
    @step
    def train(self):
        self.node = current.parallel.node_index
        os.kill(os.getpid(), signal.SIGKILL)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.errors = [str(i.err.type) for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParallelCatchFlow()
