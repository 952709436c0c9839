"""One step on Ray, the others local: each task says where it ran and prints a line to each
stream, so tests can check routing and that remote output reaches the terminal and the logs
(once)."""

import os
import sys

from headwater import FlowSpec, resources, step
from headwater.plugins.ray import ray


def where() -> str:
    return "ray" if "RAY_RAYLET_PID" in os.environ else "local"


class RayMixedFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.where = {"start": where()}
        self.next(self.train, foreach="items")

    @ray(cpu=1)
    @resources(memory=256)
    @step
    def train(self):
        print(f"training on {self.input}")
        print(f"warning about {self.input}", file=sys.stderr)
        self.score = self.input * 10
        self.ran = where()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.scores = [i.score for i in inputs]
        self.where = {**inputs[0].where, "train": sorted({i.ran for i in inputs}), "join": where()}
        self.next(self.end)

    @step
    def end(self):
        self.where = {**self.where, "end": where()}


if __name__ == "__main__":
    RayMixedFlow()
