"""``current.card``: where a step puts the components of its cards while it runs.

Each ``@card`` of the step has a slot. ``current.card.append(c)`` adds to the *default
editable* card, chosen as Metaflow does: the only card, else the only card without an id;
``current.card["id"].append(c)`` adds to the card with that id. When no single card can be
chosen, or an id is unknown, a warning is shown (in the task's stderr) and the call does
nothing, so a report never fails a step.

Cards are rendered after the task has finished and saved its artifacts. ``refresh(data)``
renders a card of a runtime-updatable custom type again while the step runs (see
headwater.cards.custom); for the other types it does nothing, so that code written for
Metaflow's live cards runs. Only cards whose type allows components (``default``,
``blank``, custom types with ``ALLOW_USER_COMPONENTS``) are chosen as the default card.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Hashable, Iterable

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class CardWarning(UserWarning):
    """A call on ``current.card`` that could not do what it was asked (and did nothing)."""


class ComponentList(list):
    """The components of one card: a list, plus ``refresh(data)`` (see the module doc)."""

    live: Any = None  # set for a runtime-updatable card: live(data) renders it now
    live_data: Any = None  # the data of the latest refresh, kept with the final card

    def refresh(self, data: Any = None, force: bool = False) -> None:
        """Render a runtime-updatable card now, with ``data``; otherwise nothing (cards are
        rendered when the task finishes)."""
        if self.live is not None:
            self.live(data)


class CardSlot:
    """One ``@card`` of the running step."""

    __slots__ = ("type", "id", "index", "key", "components", "editable", "preferred")

    def __init__(
        self,
        type: str,
        id: str | None,
        index: int,
        key: Hashable,
        components: ComponentList | None = None,
    ) -> None:
        self.type = type
        self.id = id
        self.index = index  # position among the step's cards; part of the card's file name
        self.key = key  # identifies the decorator that owns the slot
        self.components = ComponentList() if components is None else components
        self.editable = True  # False: a type that takes no components (never the default)
        self.preferred = False  # @card(customize=True): the default card whatever the others


def _warn(message: str) -> None:
    warnings.warn(message, CardWarning, stacklevel=3)


class CardCollector:
    """The object behind ``current.card`` in a task whose step has one or more ``@card``."""

    def __init__(self) -> None:
        self._slots: list[CardSlot] = []
        self.started_at = time.time()
        self.finished_at: float | None = None
        self.cache: dict[str, Any] = {}  # shared by the step's cards while rendering

    # --- used by the @card decorator ------------------------------------------------------------

    def add_card(
        self, card_type: str, card_id: str | None, key: Hashable, index: int | None = None
    ) -> CardSlot:
        """The slot of the decorator ``key``, made on first use at position ``index`` (by
        default after the others)."""
        for slot in self._slots:
            if slot.key == key:
                return slot
        taken = {s.index for s in self._slots}
        if index is None or index in taken:
            index = max(taken, default=-1) + 1
        slot = CardSlot(card_type, card_id, index, key)
        self._slots.append(slot)
        self._slots.sort(key=lambda s: s.index)
        return slot

    @property
    def slots(self) -> list[CardSlot]:
        return list(self._slots)

    # --- what a step calls ----------------------------------------------------------------------

    def _default_slot(self) -> CardSlot | None:
        preferred = [s for s in self._slots if s.preferred]
        if len(preferred) == 1:
            return preferred[0]
        editable = [s for s in self._slots if s.editable]
        if len(editable) == 1:
            return editable[0]
        without_id = [s for s in editable if s.id is None]
        return without_id[0] if len(without_id) == 1 else None

    def _default_components(self, action: str) -> ComponentList | None:
        slot = self._default_slot()
        if slot is None:
            if self._slots and not any(s.editable for s in self._slots):
                types = ", ".join(sorted({s.type for s in self._slots}))
                _warn(
                    f"current.card.{action}: no card of this step takes components (its card "
                    f"types: {types}); add a @card of type default or blank"
                )
                return None
            _warn(
                f"current.card.{action}: this step has {len(self._slots)} cards and more than "
                "one without an id; give each @card an id and use current.card['<id>']"
            )
            return None
        return slot.components

    def append(self, component: Any) -> None:
        """Add a component to the default card of the step."""
        components = self._default_components("append")
        if components is not None:
            components.append(component)

    def extend(self, components: Iterable[Any]) -> None:
        """Add several components to the default card of the step."""
        target = self._default_components("extend")
        if target is not None:
            target.extend(components)

    def clear(self) -> None:
        """Remove the components added so far to the default card."""
        target = self._default_components("clear")
        if target is not None:
            target.clear()

    def refresh(self, data: Any = None, force: bool = False) -> None:
        """Render the default card again now when its type is runtime-updatable, with
        ``data`` (see the module doc); otherwise nothing."""
        slot = self._default_slot()
        if slot is not None:
            slot.components.refresh(data, force)

    @property
    def components(self) -> ComponentList:
        """The components of the default card (an empty, detached list if there is none)."""
        slot = self._default_slot()
        return slot.components if slot is not None else ComponentList()

    def _by_id(self, card_id: str) -> CardSlot | None:
        matches = [s for s in self._slots if s.id == card_id]
        return matches[0] if matches else None

    def __getitem__(self, card_id: str) -> ComponentList:
        slot = self._by_id(card_id)
        if slot is None:
            known = ", ".join(repr(s.id) for s in self._slots if s.id) or "none"
            _warn(
                f"current.card[{card_id!r}]: no @card(id={card_id!r}) on this step (card ids: "
                f"{known}); what is added to it is not shown"
            )
            return ComponentList()
        return slot.components

    def __setitem__(self, card_id: str, components: Iterable[Any]) -> None:
        slot = self._by_id(card_id)
        if slot is None:
            self[card_id]  # warns  # noqa: B018
            return
        slot.components[:] = list(components)

    def __contains__(self, card_id: object) -> bool:
        return any(s.id == card_id for s in self._slots)

    def __len__(self) -> int:
        return len(self._slots)

    def __repr__(self) -> str:
        cards = ", ".join(f"{s.type}" + (f"[{s.id}]" if s.id else "") for s in self._slots)
        return f"<current.card: {cards or 'no cards'}>"
