"""@parallel: a gang of num_parallel tasks (a control task and workers), joined together."""

import os
import time

from headwater import FlowSpec, Parameter, current, parallel, step


class ParallelFlow(FlowSpec):
    nodes = Parameter("nodes", default=3)
    barrier = Parameter("barrier", default="", help="a directory: every node waits for all")
    workers_return = Parameter("workers_return", default=False, help="workers skip self.next")

    @step
    def start(self):
        self.before = current.parallel.num_nodes  # a gang of one outside @parallel steps
        self.next(self.train, num_parallel=self.nodes)

    @parallel
    @step
    def train(self):
        p = current.parallel
        self.node = p.node_index
        self.num_nodes = p.num_nodes
        self.control = p.control_task_id
        self.main_ip = p.main_ip
        self.same_input = self.input == p.node_index
        self.env = {k: v for k, v in os.environ.items() if k.startswith("MF_PARALLEL_")}
        self.is_parallel = current.is_parallel
        if self.barrier:  # only a gang whose tasks run at the same time gets past this
            open(os.path.join(self.barrier, str(p.node_index)), "w").close()
            deadline = time.time() + 60
            while len(os.listdir(self.barrier)) < p.num_nodes:
                if time.time() > deadline:
                    raise RuntimeError("the other nodes of the gang never started")
                time.sleep(0.05)
        if self.workers_return and p.node_index > 0:
            return  # a worker goes where its control task goes
        self.next(self.join)

    @step
    def join(self, inputs):
        if os.environ.get("PARALLEL_FAIL_JOIN"):
            raise RuntimeError("the join fails (PARALLEL_FAIL_JOIN)")
        self.nodes_seen = [i.node for i in inputs]
        self.controls = sorted({i.control for i in inputs})
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParallelFlow()
