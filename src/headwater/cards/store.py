"""How cards are named, written and found in the datastore.

A task attempt's cards are objects under its ``cards/`` prefix in the datastore, one per
``@card``, named ``<index>-<type>.html`` or ``<index>-<type>-<id>.html``: the index is the
card's position among the step's ``@card`` decorators (so listings keep the order they were
declared in), the type has no ``-`` and the id may, so both are recovered from the name. The
datastore writes each atomically: a reader never sees half a card.
"""

from __future__ import annotations

import re

from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.core.ids import AttemptPath
    from headwater.datastore.store import Datastore

SUFFIX = ".html"
TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_NAME_RE = re.compile(r"^(\d+)-([a-z][a-z0-9_]*)(?:-([A-Za-z0-9_][A-Za-z0-9_.-]*))?\.html$")


class CardFile(Record):
    """One card of one task attempt."""

    index: int
    type: str
    id: str | None
    name: str  # the object's name under the attempt's cards/
    path: str  # where it is, for people: the datastore's URL and the key


def card_file_name(index: int, card_type: str, card_id: str | None) -> str:
    if not TYPE_RE.match(card_type):
        raise ValueError(f"card type {card_type!r} must be lowercase letters, digits and _")
    if card_id is not None and not ID_RE.match(card_id):
        raise ValueError(f"card id {card_id!r} must be letters, digits, _, . and -")
    tail = f"-{card_id}" if card_id is not None else ""
    return f"{int(index)}-{card_type}{tail}{SUFFIX}"


def parse_card_file_name(name: str) -> tuple[int, str, str | None] | None:
    """(index, type, id) from a card file name, or None for any other file."""
    m = _NAME_RE.match(name)
    if m is None:
        return None
    return int(m.group(1)), m.group(2), m.group(3)


def _card_path(datastore: Datastore, attempt: AttemptPath, name: str) -> str:
    return f"{datastore.url}/{datastore.attempt_key(attempt)}/cards/{name}"


def write_card(
    datastore: Datastore,
    attempt: AttemptPath,
    index: int,
    card_type: str,
    card_id: str | None,
    html: str,
) -> CardFile:
    """Store one card (atomically, replacing one of the same name)."""
    name = card_file_name(index, card_type, card_id)
    datastore.write_card(attempt, name, html)
    return CardFile(index, card_type, card_id, name, _card_path(datastore, attempt, name))


def list_card_files(datastore: Datastore, attempt: AttemptPath) -> list[CardFile]:
    """The cards of one attempt, in declaration order; empty when it has none."""
    found = []
    for name in datastore.list_cards(attempt):
        parsed = parse_card_file_name(name)
        if parsed is not None:
            path = _card_path(datastore, attempt, name)
            found.append(CardFile(parsed[0], parsed[1], parsed[2], name, path))
    return sorted(found, key=lambda c: (c.index, c.type, c.id or ""))


def read_card(datastore: Datastore, attempt: AttemptPath, card: CardFile) -> str:
    return datastore.read_card(attempt, card.name)


def card_data_name(card_name: str) -> str:
    """The name of the data kept with a card (beside it: ``<card name>.data.json``)."""
    return card_name[: -len(SUFFIX)] + ".data.json"


def write_card_data(datastore: Datastore, attempt: AttemptPath, card_name: str, data: Any) -> None:
    """Keep ``data`` (JSON) beside the card named ``card_name``."""
    import json

    datastore.write_card(attempt, card_data_name(card_name), json.dumps(data, default=str))


def read_card_data(datastore: Datastore, attempt: AttemptPath, card: CardFile) -> Any:
    """The data kept with a card (see headwater.cards.live), or None when it has none."""
    import json

    name = card_data_name(card.name)
    if name not in datastore.list_cards(attempt):
        return None
    return json.loads(datastore.read_card(attempt, name))


def task_stores(task: Any) -> tuple[Datastore, AttemptPath]:
    """The datastore and attempt a client ``Task`` shows (where its cards are)."""
    # The client keeps its stores private; this is the one place cards reach into them.
    return task._ds, task._path
