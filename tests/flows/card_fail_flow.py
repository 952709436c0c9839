"""A step with @card that fails after saving some values, and one whose card is too slow.

python card_fail_flow.py run --mode fail   -> start fails; its card shows the error.
python card_fail_flow.py run --mode slow   -> start's card times out; the run succeeds.
"""

import time

from headwater import FlowSpec, Parameter, card, current, step
from headwater.cards import CardComponent, Markdown


class Slow(CardComponent):
    def render(self):
        time.sleep(30)
        return "<p>too late</p>"


class CardFailFlow(FlowSpec):
    mode = Parameter("mode", default="fail")

    @card(timeout=1)
    @step
    def start(self):
        self.kept = "saved before the failure"
        current.card.append(Markdown("appended before the failure"))
        if self.mode == "slow":
            current.card.append(Slow())
        if self.mode == "fail":
            raise ValueError("the step failed <on purpose>")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CardFailFlow()
