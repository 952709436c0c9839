"""Where card files live and how they are named, written and found.

A task attempt's cards are HTML files in ``<attempt dir>/cards/``, one per ``@card``, named
``<index>-<type>.html`` or ``<index>-<type>-<id>.html``: the index is the card's position
among the step's ``@card`` decorators (so listings keep the order they were declared in), the
type has no ``-`` and the id may, so both are recovered from the name. Files are written to
a temp file and renamed into place: a reader never sees half a card.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from headwater.datastore.atomic_file import write_atomic
from headwater.exceptions import DatastoreError
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

CARDS_DIR = "cards"
SUFFIX = ".html"
TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_NAME_RE = re.compile(r"^(\d+)-([a-z][a-z0-9_]*)(?:-([A-Za-z0-9_][A-Za-z0-9_.-]*))?\.html$")


class CardFile(Record):
    """One card file of one task attempt."""

    index: int
    type: str
    id: str | None
    path: Path


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


def cards_dir(attempt_dir: str | os.PathLike[str]) -> Path:
    return Path(attempt_dir) / CARDS_DIR


def write_card(
    attempt_dir: str | os.PathLike[str],
    index: int,
    card_type: str,
    card_id: str | None,
    html: str,
) -> Path:
    """Write one card atomically; returns its path."""
    target = cards_dir(attempt_dir) / card_file_name(index, card_type, card_id)
    data = html.encode("utf-8")
    try:
        try:
            write_atomic(str(target), [data], False)
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(str(target), [data], False)
    except OSError as e:
        raise DatastoreError(
            f"could not write card {target} ({e.strerror or e}): check that the datastore "
            "is writable and has free space"
        ) from e
    return target


def list_card_files(attempt_dir: str | os.PathLike[str]) -> list[CardFile]:
    """The cards of one attempt, in declaration order; empty when it has none."""
    folder = cards_dir(attempt_dir)
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as e:
        raise DatastoreError(f"could not list cards in {folder} ({e.strerror or e})") from e
    found = []
    for name in names:
        parsed = parse_card_file_name(name)
        if parsed is not None:
            found.append(CardFile(parsed[0], parsed[1], parsed[2], folder / name))
    return sorted(found, key=lambda c: (c.index, c.type, c.id or ""))


def card_data_path(card_path: str | os.PathLike[str]) -> Path:
    """Where the data kept with a card is (beside it: ``<card name>.data.json``)."""
    path = Path(card_path)
    return path.with_name(path.name[: -len(SUFFIX)] + ".data.json")


def read_card_data(card_path: str | os.PathLike[str]) -> Any:
    """The data kept with a card (see headwater.cards.live), or None when it has none."""
    import json

    try:
        text = card_data_path(card_path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise DatastoreError(f"could not read the data of card {card_path} ({e})") from e
    return json.loads(text)


def read_card(path: str | os.PathLike[str]) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatastoreError(
            f"card file {path} is gone: the datastore was changed after it was listed"
        ) from None
    except OSError as e:
        raise DatastoreError(f"could not read card {path} ({e.strerror or e})") from e


def task_attempt_dir(task: Any) -> Path:
    """The directory of the attempt a client ``Task`` shows (where its cards are)."""
    # The client keeps its stores private; this is the one place cards reach into them.
    return Path(task._ds.attempt_dir(task._path))
