"""@parallel with a task that fails: the gang's other tasks are stopped (node 0 while it runs,
node 2 once it succeeded), and the gang runs again together (with --with retry) or the step
fails. Each task leaves its pid in ``marks``
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
        failing = self.fail == "always" or attempt == 0
        if failing and p.node_index == 0:
            time.sleep(300)  # stopped when node 1 fails
        if failing and p.node_index == 1:
            # Fail once node 0 runs and node 2 (when there is one) has done its work: the
            # gang then stops a running task and one that succeeded.
            others = [f"0-{attempt}.pid"] + [f"2-{attempt}.done"] * (p.num_nodes > 2)
            deadline = time.time() + 60
            while not all(os.path.exists(os.path.join(self.marks, f)) for f in others):
                if time.time() > deadline:
                    break
                time.sleep(0.05)
            raise RuntimeError(f"node 1 fails on attempt {attempt}")
        if p.node_index == 2:
            open(os.path.join(self.marks, f"2-{attempt}.done"), "w").close()
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
