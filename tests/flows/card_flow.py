"""Cards of every kind: a default card with rich artifacts, a blank card with an id, a
component that fails to render, and values carrying HTML that must show as text.

start: default card + blank card "summary"; middle: a foreach whose tasks each get a default
card (via --with card or their own); end: a default card whose step appends a failing
component.
"""

import numpy as np
import pandas as pd

from headwater import FlowSpec, Parameter, card, current, step
from headwater.cards import Artifact, Error, Markdown, ProgressBar, Table, VegaChart


class Boom:
    """A component whose rendering raises."""

    type = "boom"


class CardFlow(FlowSpec):
    """A flow that renders cards."""

    greeting = Parameter("greeting", default="<script>alert(1)</script>")
    alpha = Parameter("alpha", default=0.5)

    @card
    @card(type="blank", id="summary")
    @step
    def start(self):
        """Make artifacts of every shape."""
        self.frame = pd.DataFrame(
            {"x": np.arange(25), "y": np.arange(25) * 0.5, "ok": np.arange(25) % 2 == 0}
        )
        self.matrix = np.arange(12, dtype=np.int64).reshape(3, 4)
        self.story = "once upon a time " * 200
        self.nested = {"model": {"layers": [64, 32], "act": "relu"}, "tags": ["a", "b"]}
        self.html_value = "<script>alert(1)</script><b>bold</b>"
        self.items = [1, 2]
        current.card.append(
            Markdown("# Hello\n\nThe **start** step ran. <script>alert(1)</script>")
        )
        current.card["summary"].append(Markdown("## Summary\n\n- rows: 25\n- cols: 3"))
        current.card["summary"].append(
            Table([[1, "<i>x</i>"], [2, Markdown("*md*")]], headers=["n", "v"])
        )
        current.card["summary"].append(Table.from_dataframe(self.frame))
        bar = ProgressBar(max=10, label="progress", value=3)
        bar.update(7)
        current.card["summary"].append(bar)
        current.card["summary"].append(
            VegaChart(
                {
                    "mark": "bar",
                    "data": {"values": [{"k": "a", "v": 3}, {"k": "b", "v": 5}]},
                    "encoding": {
                        "x": {"field": "k", "type": "nominal"},
                        "y": {"field": "v", "type": "quantitative"},
                    },
                }
            )
        )
        current.card["summary"].append(Artifact(self.nested, name="nested"))
        current.card["summary"].append(Error("a message shown as an error"))
        current.card["summary"].refresh()
        self.next(self.middle, foreach="items")

    @step
    def middle(self):
        self.doubled = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.doubled for i in inputs)
        self.next(self.end)

    @card(type="default")
    @step
    def end(self):
        """Finish, with a component that cannot render."""
        current.card.append(Markdown("before the broken one"))
        current.card.append(_Broken())
        current.card.append(Markdown("after the broken one"))
        current.card.refresh()


class _Broken(Markdown):
    def render(self):
        raise RuntimeError("this component is broken on purpose")


if __name__ == "__main__":
    CardFlow()
