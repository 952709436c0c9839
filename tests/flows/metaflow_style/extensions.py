"""Metaflow style: a custom decorator, a flow mutator, @parallel and @secrets (Metaflow's
API only)."""

import os

from metaflow import FlowMutator, FlowSpec, current, parallel, secrets, step, user_step_decorator


@user_step_decorator
def timed(step_name, flow, inputs=None, attributes=None):
    yield
    print(f"timed {step_name}")


class time_every_step(FlowMutator):  # noqa: N801
    def mutate(self, mutable_flow):
        for _, step_ in mutable_flow.steps:
            step_.add_decorator(timed)


@time_every_step
class ExtensionsFlow(FlowSpec):
    @secrets(sources=[{"type": "inline", "id": "x", "options": {"env_vars": {"PW": "secret"}}}])
    @step
    def start(self):
        print("secret length:", len(os.environ["PW"]))
        self.next(self.train, num_parallel=2)

    @parallel
    @step
    def train(self):
        self.node = current.parallel.node_index
        self.next(self.join)

    @step
    def join(self, inputs):
        print("nodes seen:", sorted(i.node for i in inputs))
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ExtensionsFlow()
