"""Cards: HTML reports of tasks (layer 4), as Metaflow's ``metaflow.cards``.

In a step decorated with ``@card``, add components with ``current.card.append(...)``::

    from headwater import FlowSpec, card, current, step
    from headwater.cards import Markdown, Table

    @card
    @step
    def start(self):
        current.card.append(Markdown("# Results"))
        current.card.append(Table([[1, 2]], headers=["a", "b"]))

Read them back with ``get_cards(task)``, or ``python flow.py card get|list|view RUN/STEP``.
Names load lazily: importing this package costs nothing until one is used.
"""

from __future__ import annotations

from headwater import _lazy_exports

TYPE_CHECKING = False

_EXPORTS = {
    "CardComponent": "headwater.cards.components",
    "MetaflowCardComponent": "headwater.cards.components",
    "Markdown": "headwater.cards.components",
    "Table": "headwater.cards.components",
    "Image": "headwater.cards.components",
    "Artifact": "headwater.cards.components",
    "VegaChart": "headwater.cards.components",
    "ProgressBar": "headwater.cards.components",
    "Error": "headwater.cards.components",
    "get_cards": "headwater.cards.client",
    "Card": "headwater.cards.client",
    "CardContainer": "headwater.cards.client",
    "MetaflowCard": "headwater.cards.custom",
    "register_card_type": "headwater.cards.custom",
}

__all__ = [
    "Artifact",
    "Card",
    "CardComponent",
    "CardContainer",
    "Error",
    "Image",
    "Markdown",
    "MetaflowCard",
    "MetaflowCardComponent",
    "ProgressBar",
    "Table",
    "VegaChart",
    "get_cards",
    "register_card_type",
]


__getattr__, __dir__ = _lazy_exports(__name__, globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover
    from headwater.cards.client import Card, CardContainer, get_cards
    from headwater.cards.components import (
        Artifact,
        CardComponent,
        Error,
        Image,
        Markdown,
        MetaflowCardComponent,
        ProgressBar,
        Table,
        VegaChart,
    )
    from headwater.cards.custom import MetaflowCard, register_card_type
