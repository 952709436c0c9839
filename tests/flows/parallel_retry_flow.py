"""@parallel with a task that fails: the gang's other tasks are stopped, and the gang runs
again together (with --with retry) or the step fails. Each task leaves its pid in ``marks``
(``<node>-<attempt>.pid``), so a test can tell which attempts ran and that none outlived the
run."""

import os
import time

from headwater import FlowSpec, Parameter, current, parallel, step


class ParallelRetryFlow(FlowSpec):
    marks = Parameter("marks", required=True, help="a directory for the tasks' pid files")
    nodes = Parameter("nodes", default=3)
    fail = Parameter("fail", default="first", help="first: node 1 fails on attempt 0; always")

    @step
    def start(self):
        self.next(self.train, num_parallel=self.nodes)

    @parallel
    @step
    def train(self):
        p, attempt = current.parallel, current.retry_count
        with open(os.path.join(self.marks, f"{p.node_index}-{attempt}.pid"), "w") as fh:
            fh.write(str(os.getpid()))
        self.node = p.node_index
        self.main_ip = p.main_ip
        if self.fail == "always" or attempt == 0:
            if p.node_index != 1:
                time.sleep(300)  # stopped when node 1 fails
            # Fail once every other task of this attempt is running.
            others = [f"{i}-{attempt}.pid" for i in range(p.num_nodes) if i != 1]
            deadline = time.time() + 60
            while not all(os.path.exists(os.path.join(self.marks, f)) for f in others):
                if time.time() > deadline:
                    break
                time.sleep(0.05)
            raise RuntimeError(f"node 1 fails on attempt {attempt}")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.nodes_seen = [i.node for i in inputs]
        self.main_ips = sorted({i.main_ip for i in inputs})
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParallelRetryFlow()
