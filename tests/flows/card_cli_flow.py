"""A small flow with cards and no heavy imports, for the `card` command tests.

start: a default card and a blank card with id "notes"; work: a foreach of two tasks, each
with a default card; end: no card.
"""

from headwater import FlowSpec, Parameter, card, current, step
from headwater.cards import Markdown


class CardCliFlow(FlowSpec):
    title = Parameter("title", default="<img src=x onerror=alert(1)>")

    @card
    @card(type="blank", id="notes")
    @step
    def start(self):
        self.items = ["a", "b"]
        current.card.append(Markdown("default card text"))
        current.card["notes"].append(Markdown("# Notes\n\nwritten by **start**"))
        self.next(self.work, foreach="items")

    @card
    @step
    def work(self):
        self.letter = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.letters = [i.letter for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CardCliFlow()
