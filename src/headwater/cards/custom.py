"""Custom card types: ``MetaflowCard`` subclasses, found by their ``type``.

A card type is a class with a ``type`` name and ``render(task) -> str`` (HTML), given the
task's client :class:`~headwater.client.task.Task` once the task has saved its artifacts::

    from headwater.cards import MetaflowCard

    class SummaryCard(MetaflowCard):
        type = "summary"

        def __init__(self, options=None, components=None, graph=None, flow=None, **kwargs):
            self.title = (options or {}).get("title", "Summary")

        def render(self, task):
            return f"<h1>{self.title}</h1><p>{task.data.score}</p>"

``@card(type="summary")`` uses it. A type is found, first that applies, among the built-in
types (``default``, ``blank``, ``taskspec_card``), the classes given to
:func:`register_card_type`, and the entry points of the group ``headwater.cards`` of
installed packages (``summary = "mypkg.cards:SummaryCard"``), which are loaded only when a
card of a type not found before is rendered.

``ALLOW_USER_COMPONENTS`` lets ``current.card.append`` add components (the card receives
them as ``components``); ``RUNTIME_UPDATABLE`` cards are rendered again by
``current.card.refresh(data)`` while the step runs (``render_runtime(task, data)``), and
``refresh(task, data)`` gives the data kept with the card (``Card.get_data()``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

ENTRY_POINT_GROUP = "headwater.cards"


class MetaflowCard:
    """Base class of custom card types (Metaflow's name; see the module docstring)."""

    RELOAD_POLICY_NEVER = "never"
    RELOAD_POLICY_ALWAYS = "always"
    RELOAD_POLICY_ONCHANGE = "onchange"
    RELOAD_POLICY_TOKEN = "[METAFLOW_RELOAD_TOKEN]"

    type: str | None = None
    ALLOW_USER_COMPONENTS = False
    RUNTIME_UPDATABLE = False
    RELOAD_POLICY = RELOAD_POLICY_NEVER
    scope = "task"

    def __init__(
        self,
        options: dict[str, Any] | None = None,
        components: list[Any] | None = None,
        graph: Any = None,
        flow: Any = None,
        **kwargs: Any,
    ) -> None:
        self.options = dict(options or {})
        self.components = list(components or ())
        self.graph = graph
        self.flow = flow

    def render(self, task: Any) -> str:
        """The card's HTML, given the finished task (a client Task)."""
        raise NotImplementedError(f"card type {self.type!r} does not implement render(task)")

    def render_runtime(self, task: Any, data: dict[str, Any]) -> str:
        """The card's HTML while the task runs (RUNTIME_UPDATABLE cards)."""
        raise NotImplementedError(
            f"card type {self.type!r} does not implement render_runtime(task, data)"
        )

    def refresh(self, task: Any, data: dict[str, Any]) -> Any:
        """The data kept with the card at a refresh (JSON-serialisable)."""
        raise NotImplementedError(f"card type {self.type!r} does not implement refresh")

    def reload_content_token(self, task: Any, data: dict[str, Any]) -> str:
        return "content-token"


class TaskspecCard(MetaflowCard):
    """``taskspec_card``: the task's pathspec as plain text (one of Metaflow's built-in types,
    handy to check which task a card belongs to)."""

    type = "taskspec_card"

    def render(self, task: Any) -> str:
        return str(task.pathspec)


_REGISTERED: dict[str, type[MetaflowCard]] = {TaskspecCard.type: TaskspecCard}


def register_card_type(cls: type[MetaflowCard]) -> type[MetaflowCard]:
    """Make ``cls`` the card type named ``cls.type`` (usable as a class decorator)."""
    name = getattr(cls, "type", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls!r} has no card type name: set its `type` attribute")
    _REGISTERED[name] = cls
    return cls


_BROKEN: dict[str, str] = {}  # plugin name -> why it could not be loaded


def find_card_type(name: str) -> type[MetaflowCard] | None:
    """The custom card class named ``name``: registered, else a plugin of the ``cards``
    group (headwater.registry, from installed packages' entry points)."""
    cls = _REGISTERED.get(name)
    if cls is not None or name in _BROKEN:
        return cls
    from headwater import registry

    target = registry.target("cards", name)
    if target is None:
        return None
    try:
        cls = registry.load("cards", name, "card type")
    except Exception as ex:  # noqa: BLE001 - a broken plugin must not stop other cards
        _BROKEN[name] = f"{target} could not be loaded ({type(ex).__name__}: {ex})"
        return None
    _REGISTERED[name] = cls
    return cls


def why_missing(name: str) -> str:
    """Why no card type ``name`` could be found, as the end of a sentence."""
    if name in _BROKEN:
        return _BROKEN[name]
    from headwater.cards.card_types import CARD_TYPES

    known = sorted(set(CARD_TYPES) | set(_REGISTERED))
    return (
        f"no card type is named {name!r} (known: {', '.join(known)}); install the package "
        f"that provides it (entry point group {ENTRY_POINT_GROUP!r})"
    )


def allows_components(name: str) -> bool:
    """Whether ``current.card.append`` may add components to a card of type ``name``."""
    from headwater.cards.card_types import CARD_TYPES

    if name in CARD_TYPES:
        return True
    cls = find_card_type(name)
    return bool(cls is not None and cls.ALLOW_USER_COMPONENTS)
