"""Reading cards back: ``get_cards(task)`` gives a list-like of :class:`Card` objects.

As Metaflow's ``get_cards``: ``task`` is a client ``Task`` or its pathspec, ``id`` and
``type`` filter, and ``follow_resumed`` reads the cards of the original task when ``task``
was cloned by ``resume`` (a cloned task runs no code and so renders no card). The HTML of a
card is read only when asked for (``card.html`` or ``card.get()``).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from html import escape
from pathlib import Path
from typing import Any, overload

from headwater.cards.store import CardFile, list_card_files, read_card, task_stores
from headwater.exceptions import ClientError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.core.ids import AttemptPath
    from headwater.datastore.store import Datastore

MAX_RESUME_HOPS = 20
NOTEBOOK_HEIGHT = 640  # pixels of the frame a card gets in a notebook


class Card:
    """One card of one task attempt: ``.type``, ``.id``, ``.path``, ``.html``."""

    def __init__(
        self,
        file: CardFile,
        pathspec: str,
        attempt: int,
        datastore: Datastore,
        path: AttemptPath,
    ) -> None:
        self._file = file
        self._ds = datastore
        self._attempt_path = path
        self._html: str | None = None
        self.pathspec = pathspec  # the task's
        self.attempt = attempt

    @property
    def type(self) -> str:
        return self._file.type

    @property
    def id(self) -> str | None:
        """The id given with ``@card(id=...)``, or None."""
        return self._file.id

    @property
    def index(self) -> int:
        """The card's position among the step's ``@card`` decorators."""
        return self._file.index

    @property
    def path(self) -> str:
        """Where the card's HTML is: the datastore's root and the card's key."""
        return self._file.path

    @property
    def html(self) -> str:
        """The card's HTML (read once, then kept)."""
        if self._html is None:
            self._html = read_card(self._ds, self._attempt_path, self._file)
        return self._html

    def get(self) -> str:
        """The card's HTML (Metaflow's name for :attr:`html`)."""
        return self.html

    @property
    def hash(self) -> str:
        """A digest of the card's HTML (hex): the same card gives the same hash."""
        import hashlib

        return hashlib.sha1(self.html.encode("utf-8")).hexdigest()

    def get_data(self) -> Any:
        """The data kept with the card by ``current.card.refresh(...)`` of a
        runtime-updatable card type, or None."""
        from headwater.cards.store import read_card_data

        return read_card_data(self._ds, self._attempt_path, self._file)

    def view(self) -> str:
        """Open the card in a web browser when there is a display; returns the path of the
        copy opened (a temp file)."""
        path = write_temp_card(self.html, f"{self.pathspec.replace('/', '-')}-{self.type}")
        open_in_browser(path)
        return str(path)

    def _repr_html_(self) -> str:
        return _frame(self.html, f"{self.pathspec} · {self.type}")

    def __repr__(self) -> str:
        ident = f" id={self.id!r}" if self.id else ""
        return f"<Card {self.type}{ident} of {self.pathspec} at '{self.path}'>"

    __str__ = __repr__


class CardContainer(Sequence[Card]):
    """The cards of a task, in the order of the step's ``@card`` decorators (immutable)."""

    def __init__(self, cards: list[Card], origin_pathspec: str | None = None) -> None:
        self._cards = list(cards)
        self.origin_pathspec = origin_pathspec
        self.from_resumed = origin_pathspec is not None

    @overload
    def __getitem__(self, index: int) -> Card: ...

    @overload
    def __getitem__(self, index: slice) -> list[Card]: ...

    def __getitem__(self, index: int | slice) -> Card | list[Card]:
        return self._cards[index]

    def __len__(self) -> int:
        return len(self._cards)

    def __iter__(self) -> Iterator[Card]:
        return iter(self._cards)

    def _repr_html_(self) -> str:
        if not self._cards:
            return "<p>No cards.</p>"
        parts = []
        for card in self._cards:
            title = f"Card {card.type}" + (f" ({card.id})" if card.id else "")
            parts.append(f"<h3>{escape(title)}</h3>{card._repr_html_()}")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"<CardContainer of {len(self._cards)} card(s)>"


def _frame(html: str, title: str) -> str:
    """A card inside a sandboxed frame: its styles stay out of the notebook's page."""
    return (
        f'<iframe title="{escape(title)}" sandbox srcdoc="{escape(html)}" '
        f'style="width:100%;height:{NOTEBOOK_HEIGHT}px;border:1px solid #d1d9e0"></iframe>'
    )


def _as_task(task: Any) -> Any:
    from headwater.client.task import Task

    if isinstance(task, Task):
        return task
    if isinstance(task, str):
        return Task(task, _namespace_check=False)
    raise ClientError(
        f"get_cards takes a Task or a pathspec 'Flow/run/step/task', not {type(task).__name__}"
    )


def get_cards(
    task: Any,
    id: str | None = None,
    type: str | None = None,
    follow_resumed: bool = True,
) -> CardContainer:
    """The cards of ``task`` (a client Task or a task pathspec), optionally only those with
    ``id`` and/or of ``type``. Empty when there are none."""
    task = _as_task(task)
    origin = None
    if follow_resumed:
        hops = 0
        while task.origin_pathspec and hops < MAX_RESUME_HOPS:
            from headwater.client.task import Task

            origin = task.origin_pathspec
            task = Task(origin, _namespace_check=False)
            hops += 1
    cards = []
    datastore, path = task_stores(task)
    for f in list_card_files(datastore, path):
        if (id is None or f.id == id) and (type is None or f.type == type):
            cards.append(Card(f, task.pathspec, task.current_attempt, datastore, path))
    return CardContainer(cards, origin)


# --- viewing ------------------------------------------------------------------------------------


def write_temp_card(html: str, stem: str) -> Path:
    """A copy of a card in the temp directory, to hand to a browser."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:120]
    fd, name = tempfile.mkstemp(prefix=f"headwater-{safe}-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(html)
    return Path(name)


def display_available() -> bool:
    """True when a graphical browser could show a page (never true on a bare terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(path: str | os.PathLike[str], wait: float = 5.0) -> bool:
    """Ask the web browser to open ``path`` when a display is available; never blocks for
    more than ``wait`` seconds. Returns True when a browser accepted it."""
    if not display_available():
        return False
    import webbrowser

    result: list[bool] = []

    def go() -> None:
        try:
            result.append(bool(webbrowser.open(Path(path).resolve().as_uri())))
        except Exception:  # noqa: BLE001 - no usable browser is not an error
            result.append(False)

    thread = threading.Thread(target=go, name="headwater-open-card", daemon=True)
    thread.start()
    thread.join(wait)
    return bool(result and result[0])
