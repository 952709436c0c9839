"""Steps without @card that add to current.card when one is attached with --with card."""

from headwater import FlowSpec, current, step
from headwater.cards import Markdown


class CardWithFlow(FlowSpec):
    @step
    def start(self):
        if "card" in current:
            current.card.append(Markdown("added through **--with card**"))
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CardWithFlow()
