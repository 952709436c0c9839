"""A small model-selection flow as a new user writes one: a DataFrame of floats, a foreach,
a join with a card, results in the end step. With FAIL_JOIN=1 the join fails (for resume)."""

import os

from headwater import FlowSpec, Parameter, card, current, step


class UiReportFlow(FlowSpec):
    rows = Parameter("rows", default=5)

    @step
    def start(self):
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(0)
        columns = {f"feature_{i}": rng.random(self.rows) * 10 ** (i % 4) for i in range(14)}
        self.features = pd.DataFrame(columns)
        self.alphas = [0.1, 0.2, 0.3]
        self.next(self.train, foreach="alphas")

    @step
    def train(self):
        self.alpha = self.input
        self.test_mse = 1.0 / (1.0 + self.input) + 0.123456789
        self.next(self.join)

    @card
    @step
    def join(self, inputs):
        """Pick the alpha with the lowest test error."""
        from headwater.cards import Markdown

        if os.environ.get("FAIL_JOIN"):
            raise RuntimeError("the join failed on purpose")
        best = min(inputs, key=lambda i: i.test_mse)
        self.best_alpha = best.alpha
        self.best_mse = best.test_mse
        current.card.append(Markdown(f"# Best alpha: {self.best_alpha}"))
        self.next(self.end)

    @step
    def end(self):
        self.summary = {"alpha": self.best_alpha, "mse": round(self.best_mse, 4)}


if __name__ == "__main__":
    UiReportFlow()
