"""A flow with the mistakes of a first hour, chosen by the MISTAKE environment variable:
a misspelt artifact of a join input (the default), a misspelt artifact of self, a helper in
the user's own code that raises, and a step that forgets self.next."""

import os

from headwater import FlowSpec, step

MISTAKE = os.environ.get("MISTAKE", "input")


def pick_best(inputs):
    if MISTAKE == "input":
        return min(inputs, key=lambda i: i.test_mes)  # misspelt: test_mse
    return min(inputs, key=lambda i: i.test_mse)


def check_positive(value):
    if value <= 0:
        raise ValueError(f"expected a positive value, got {value}")
    return value


class TypoFlow(FlowSpec):
    @step
    def start(self):
        self.alphas = [0.1, 0.2]
        self.next(self.train, foreach="alphas")

    @step
    def train(self):
        self.test_mse = self.input * 2
        if MISTAKE == "self":
            self.score = self.tset_mse  # misspelt: test_mse
        if MISTAKE == "helper":
            check_positive(-self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.best = pick_best(inputs).test_mse
        if MISTAKE == "no-next":
            return
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TypoFlow()
