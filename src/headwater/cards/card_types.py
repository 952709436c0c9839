"""The card types and the facts about a task they show.

``default``: the components the step appended first (the report the user wrote), then the
failure of a failed step, the task's identity and status, timing, parameters, every public
artifact with a preview, the step's source code ("Task code") and the flow graph with this
step highlighted.
``blank``: only the components the step appended. Both are pure functions of
:class:`TaskFacts` and the component list, so they render the same in a task, in a test or in
a notebook. :func:`error_card` and :func:`timeout_card` are what a card becomes when its
rendering fails or runs over its time.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from html import escape
from typing import Any

from headwater.cards.components import render_components
from headwater.cards.graph_svg import graph_svg
from headwater.cards.preview import preview_html
from headwater.cards.render import (
    error_box,
    exception_text,
    header,
    kv_table,
    notice,
    page,
    section,
)
from headwater.record import Record

MAX_PREVIEW_BYTES = 256 << 20  # artifacts stored bigger than this are listed, not loaded
DEFAULT_MAX_ROWS = 10


class ArtifactEntry(Record):
    """One artifact of the task: its name, stored type and size, and how to load its value."""

    name: str
    type: str
    size: int
    load: Callable[[], Any]


class Loaded:
    """Loads each artifact value at most once, shared by every card of the task."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, entry: ArtifactEntry) -> Any:
        with self._lock:
            if entry.name not in self._values:
                self._values[entry.name] = entry.load()
            return self._values[entry.name]


class TaskFacts:
    """What a card knows about its task.

    Not a record: ``loaded`` is the cache of artifact values, filled as cards render and shared
    by every card given these facts (each ``TaskFacts`` gets its own unless one is passed).
    """

    __slots__ = (
        "flow",
        "run_id",
        "step",
        "task_id",
        "attempt",
        "ok",
        "started_at",
        "finished_at",
        "username",
        "tags",
        "exception",
        "parameters",
        "artifacts",
        "graph",
        "rendered_at",
        "loaded",
        "source",
    )

    def __init__(
        self,
        flow: str,
        run_id: str,
        step: str,
        task_id: str,
        attempt: int,
        ok: bool = True,
        started_at: float | None = None,
        finished_at: float | None = None,
        username: str | None = None,
        tags: tuple[str, ...] = (),
        exception: str | None = None,
        parameters: tuple[ArtifactEntry, ...] = (),
        artifacts: tuple[ArtifactEntry, ...] = (),
        graph: Mapping[str, Any] | None = None,
        rendered_at: float | None = None,
        loaded: Loaded | None = None,
        source: str | None = None,
    ) -> None:
        self.flow = flow
        self.run_id = run_id
        self.step = step
        self.task_id = task_id
        self.attempt = attempt
        self.ok = ok
        self.started_at = started_at  # epoch seconds
        self.finished_at = finished_at
        self.username = username
        self.tags = tags
        self.exception = exception  # headline and traceback of a failed step
        self.parameters = parameters
        self.artifacts = artifacts
        self.graph = graph
        self.rendered_at = rendered_at
        self.loaded = Loaded() if loaded is None else loaded
        self.source = source  # the step function's source code, when it could be read

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}/{self.step}/{self.task_id}"


def _time(ts: float | None) -> str:
    if ts is None:
        return '<span class="hw-muted">unknown</span>'
    moment = _dt.datetime.fromtimestamp(ts).astimezone()
    iso = moment.isoformat(timespec="seconds")
    return (
        f'<time datetime="{escape(iso)}">{escape(moment.strftime("%Y-%m-%d %H:%M:%S %Z"))}</time>'
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        text = f"{seconds:.2f} s"
    elif seconds < 3600:
        text = f"{int(seconds // 60)} min {seconds % 60:.0f} s"
    else:
        text = f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    return f'<span class="hw-duration">{escape(text)}</span>'


def _title(facts: TaskFacts) -> str:
    return f"{facts.pathspec} · card"


def _footer(facts: TaskFacts) -> str:
    from headwater import __version__

    when = ""
    if facts.rendered_at is not None:
        moment = _dt.datetime.fromtimestamp(facts.rendered_at).astimezone()
        when = f" at {moment.strftime('%Y-%m-%d %H:%M:%S %Z')}"
    return f"Rendered by headwater {__version__}{when}"


def _identity(facts: TaskFacts) -> str:
    rows = [
        ("Flow", escape(facts.flow)),
        ("Run", escape(facts.run_id)),
        ("Step", escape(facts.step)),
        ("Task", escape(facts.task_id)),
        ("Attempt", escape(str(facts.attempt))),
        ("Pathspec", f"<code>{escape(facts.pathspec)}</code>"),
        ("Status", "succeeded" if facts.ok else '<strong class="hw-bad">failed</strong>'),
        ("Started", _time(facts.started_at)),
        ("Finished", _time(facts.finished_at)),
    ]
    if facts.started_at is not None and facts.finished_at is not None:
        rows.append(("Duration", _duration(max(facts.finished_at - facts.started_at, 0.0))))
    if facts.username:
        rows.append(("User", escape(facts.username)))
    if facts.tags:
        rows.append(("Tags", ", ".join(f"<code>{escape(t)}</code>" for t in sorted(facts.tags))))
    return kv_table(rows)


def _value(facts: TaskFacts, entry: ArtifactEntry, max_rows: int) -> str:
    if entry.size > MAX_PREVIEW_BYTES:
        return (
            f'<div class="hw-meta">{escape(entry.type)} · {entry.size:,} bytes stored: too big '
            "to preview here; read it with the client</div>"
        )
    try:
        value = facts.loaded.get(entry)
    except Exception as ex:  # noqa: BLE001 - one unreadable artifact must not stop the card
        return error_box(f"could not load {entry.name}: {type(ex).__name__}: {ex}")
    return preview_html(value, max_rows=max_rows)


def _parameters(facts: TaskFacts) -> str:
    if not facts.parameters:
        return '<p class="hw-muted">This flow has no parameters.</p>'
    rows = [(p.name, _value(facts, p, DEFAULT_MAX_ROWS)) for p in facts.parameters]
    return kv_table(rows)


def _artifacts(facts: TaskFacts, options: Mapping[str, Any]) -> str:
    include = options.get("include")
    exclude = set(options.get("exclude") or ())
    max_rows = int(options.get("max_rows") or DEFAULT_MAX_ROWS)
    entries = [
        a
        for a in facts.artifacts
        if a.name not in exclude and (include is None or a.name in include)
    ]
    if not entries:
        return '<p class="hw-muted">No artifacts.</p>'
    items = []
    for a in entries:
        items.append(
            f'<div class="hw-artifact" id="artifact-{escape(a.name)}">'
            f'<h3 class="hw-name">{escape(a.name)}</h3>{_value(facts, a, max_rows)}</div>'
        )
    return "\n".join(items)


def render_default(
    facts: TaskFacts, components: Sequence[Any], options: Mapping[str, Any] | None = None
) -> str:
    options = options or {}
    badge = ("ok", "succeeded") if facts.ok else ("failed", "failed")
    parts = [header(facts.pathspec, f"attempt {facts.attempt}", badge)]
    if components:  # what the user wrote comes first
        parts.append(section("Report", render_components(components), "report"))
    if facts.exception:
        parts.append(section("Error", error_box("The step failed", facts.exception), "error"))
    parts.append(section("Task", _identity(facts), "task"))
    parts.append(section("Parameters", _parameters(facts), "parameters"))
    parts.append(section("Artifacts", _artifacts(facts, options), "artifacts"))
    if facts.source:
        code = f'<pre class="hw-code">{escape(facts.source)}</pre>'
        parts.append(section("Task code", code, "code"))
    if facts.graph and not options.get("hide_graph"):
        parts.append(
            section(
                "Flow graph",
                f'<div class="hw-graph">{graph_svg(facts.graph, facts.step)}</div>',
                "graph",
            )
        )
    return page(_title(facts), "\n".join(parts), _footer(facts))


def render_blank(
    facts: TaskFacts, components: Sequence[Any], options: Mapping[str, Any] | None = None
) -> str:
    return page(_title(facts), render_components(components), _footer(facts))


Renderer = Callable[[TaskFacts, Sequence[Any], Mapping[str, Any]], str]

CARD_TYPES: dict[str, Renderer] = {"default": render_default, "blank": render_blank}

# Options each type accepts (``only_repr`` is Metaflow's; accepted and ignored).
CARD_OPTIONS: dict[str, frozenset[str]] = {
    "default": frozenset({"include", "exclude", "max_rows", "hide_graph", "only_repr"}),
    "blank": frozenset(),
}


def render_custom(
    cls: Any, task: Any, facts: TaskFacts, components: Sequence[Any], options: Mapping[str, Any]
) -> str:
    """Render a card of a custom type (a MetaflowCard subclass) for the finished task."""
    card = cls(
        options=dict(options),
        components=list(components) if cls.ALLOW_USER_COMPONENTS else [],
        graph=facts.graph,
        flow=None,
    )
    html = card.render(task() if callable(task) else task)
    if not isinstance(html, str):
        raise TypeError(f"{cls.__name__}.render() returned {type(html).__name__}, not HTML text")
    return html


def error_card(facts: TaskFacts, card_type: str, headline: str, detail: str | None) -> str:
    """What a card shows when it could not be rendered."""
    body = header(facts.pathspec, f"{card_type} card, attempt {facts.attempt}") + error_box(
        f"This card could not be rendered: {headline}", detail
    )
    return page(_title(facts), body, _footer(facts))


def timeout_card(facts: TaskFacts, card_type: str, seconds: float) -> str:
    body = header(facts.pathspec, f"{card_type} card, attempt {facts.attempt}") + notice(
        f"Rendering this card took longer than its timeout of {seconds:g} "
        f"second{'' if seconds == 1 else 's'} and was "
        "stopped. Raise @card(timeout=...) or show less in it."
    )
    return page(_title(facts), body, _footer(facts))


def render_card(
    card_type: str,
    facts: TaskFacts,
    components: Sequence[Any],
    options: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    task: Any = None,
    save_errors: bool = True,
) -> str | None:
    """The HTML of one card; never raises.

    Rendering runs in a helper thread: when it takes longer than ``timeout`` seconds the card
    says so instead (the thread is left to finish on its own and its result is dropped), and
    when it raises the card shows the error. A custom type (see headwater.cards.custom) is
    given ``task``, the task's client Task (or a function returning it); an unknown type
    gives an error card that says so. With ``save_errors=False`` a card that could not be
    rendered is None instead of an error card.
    """
    renderer = CARD_TYPES.get(card_type)
    if renderer is None:
        from headwater.cards.custom import find_card_type, why_missing

        cls = find_card_type(card_type)
        if cls is None:
            if not save_errors:
                return None
            return error_card(
                facts, card_type, f"unknown card type {card_type!r}", why_missing(card_type)
            )
        renderer = partial(render_custom, cls, task)
    result: dict[str, Any] = {}
    snapshot = list(components)

    def work() -> None:
        try:
            result["html"] = renderer(facts, snapshot, options or {})
        except BaseException as ex:  # noqa: BLE001 - reported in the card
            result["error"] = ex

    thread = threading.Thread(target=work, name=f"headwater-card-{card_type}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return timeout_card(facts, card_type, float(timeout or 0)) if save_errors else None
    if "error" in result:
        ex = result["error"]
        if not save_errors:
            return None
        return error_card(facts, card_type, f"{type(ex).__name__}: {ex}", exception_text(ex))
    return result["html"]
