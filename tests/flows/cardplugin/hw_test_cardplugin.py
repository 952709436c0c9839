"""An installed package's card type, declared as an entry point of `headwater.cards`."""

from headwater.cards import MetaflowCard


class PluginCard(MetaflowCard):
    type = "plugin_card"

    def render(self, task):
        return f"<p>plugin card of {task.pathspec} with {sorted(task.data.numbers)}</p>"
