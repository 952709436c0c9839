"""Card types beyond default and blank: taskspec_card, a type registered in the flow's
module (with options, components and updates while the step runs), one from an installed
package's entry point, and an unknown one."""

from headwater import FlowSpec, card, current, step
from headwater.cards import Markdown, MetaflowCard, register_card_type


@register_card_type
class ProgressCard(MetaflowCard):
    type = "progress_card"
    ALLOW_USER_COMPONENTS = True
    RUNTIME_UPDATABLE = True

    def __init__(self, options=None, components=None, graph=None, flow=None, **kwargs):
        self.title = (options or {}).get("title", "untitled")
        self.components = components or []

    def render(self, task):
        return f"<h1>{self.title}</h1><p>final: {task.data.done} ({len(self.components)})</p>"

    def render_runtime(self, task, data):
        with open(data["user"]["marker"], "w") as fh:  # the step checks it was called
            fh.write(f"runtime {data['render_seq']}")
        return f"<p>running: {data['user']['step']}</p>"

    def refresh(self, task, data):
        return {"progress": data["user"]["step"]}


@register_card_type
class BrokenCard(MetaflowCard):
    type = "broken_card"

    def render(self, task):
        raise RuntimeError("this card type cannot render")


class CustomCardsFlow(FlowSpec):
    @card(type="taskspec_card")
    @card(type="progress_card", id="progress", options={"title": "Training"})
    @card(type="plugin_card", id="plugin")
    @card(type="no_such_type", id="missing")
    @step
    def start(self):
        import os

        self.numbers = [3, 1, 2]
        current.card.append(Markdown("appended"))  # the only card that takes components
        marker = os.path.join(current.tempdir, "marker")
        current.card["progress"].refresh({"step": 1, "marker": marker})
        with open(marker) as fh:
            self.runtime_rendered = fh.read()
        self.done = "yes"
        self.next(self.end)

    @card(type="broken_card", id="kept")
    @card(type="broken_card", id="dropped", save_errors=False)
    @card(type="blank", id="first")
    @card(type="blank", id="chosen", customize=True)
    @step
    def end(self):
        current.card.append(Markdown("to the customized card"))


if __name__ == "__main__":
    CustomCardsFlow()
