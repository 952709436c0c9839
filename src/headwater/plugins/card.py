"""``@card``: render an HTML report of the task after it finishes (several per step allowed).

``@card(type="default", id=None, options={}, timeout=45, save_errors=True,
customize=False)`` (``scope="task"`` and ``refresh_interval`` are accepted, as Metaflow's).
Before the step runs, each ``@card`` adds a slot to ``current.card`` (see
:mod:`headwater.cards.collector`; ``customize=True`` makes it the default card). After the
task has saved its artifacts (also when the step failed), each card is rendered from what was
saved and what the step appended, and written to ``<attempt dir>/cards/``. Rendering never
fails the task: an error, or a rendering that runs over ``timeout`` seconds, gives a card that
says so (no card at all with ``save_errors=False``).

Types: ``default`` (task, parameters, artifacts, graph; options ``include``/``exclude``: lists
of artifact names, ``max_rows``: rows of tables shown, ``hide_graph``), ``blank`` (only the
appended components), ``taskspec_card`` and custom types (see headwater.cards.custom).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from functools import partial

from headwater.core.current import add_extra, current, run_tags
from headwater.core.decorators import StepDecorator, make_step_decorator
from headwater.exceptions import HeadwaterException, InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.cards.card_types import TaskFacts
    from headwater.cards.collector import CardCollector
    from headwater.core.ids import AttemptPath
    from headwater.datastore.store import Datastore

_FACTS = "facts"


class CardDecorator(StepDecorator):
    """Render an HTML card of the task when it finishes."""

    name = "card"
    defaults = {
        "type": "default",
        "id": None,
        "options": {},
        "timeout": 45,
        "save_errors": True,
        "customize": False,
        "scope": "task",
        "refresh_interval": 5,
    }
    allow_multiple = True

    def init(self) -> None:
        from headwater.cards.card_types import CARD_OPTIONS, CARD_TYPES
        from headwater.cards.store import ID_RE, TYPE_RE

        card_type = self.attributes["type"]
        if not isinstance(card_type, str) or not TYPE_RE.match(card_type):
            raise InvalidFlow(
                f"@card(type={card_type!r}): a card type is a name of lowercase letters, digits "
                "and '_'"
            )
        # A custom type is looked up when the card is rendered: an unknown one then gives an
        # error card and a warning, as in Metaflow, rather than stopping the flow.
        card_id = self.attributes["id"]
        if card_id is not None:
            card_id = str(card_id)
            if not ID_RE.match(card_id):
                raise InvalidFlow(
                    f"@card(id={card_id!r}): an id is 1 to 100 letters, digits, '_', '.' or '-'"
                )
            self.attributes["id"] = card_id
        options = self.attributes["options"]
        if not isinstance(options, Mapping):
            raise InvalidFlow(f"@card(options=...) takes a dict, not {type(options).__name__}")
        unknown = sorted(set(options) - CARD_OPTIONS[card_type]) if card_type in CARD_TYPES else []
        if unknown:
            known = ", ".join(sorted(CARD_OPTIONS[card_type])) or "none"
            raise InvalidFlow(
                f"@card(type={card_type!r}) has no option {unknown[0]!r} (its options: {known})"
            )
        self.attributes["options"] = dict(options)
        if self.attributes["scope"] != "task":
            raise InvalidFlow(f"@card(scope={self.attributes['scope']!r}): only 'task' exists")
        timeout = self.attributes["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise InvalidFlow(f"@card(timeout={timeout!r}): give a positive number of seconds")

    # --- in the task ----------------------------------------------------------------------------

    def _slot(self, flow: Any, step_name: str) -> Any:
        from headwater.cards.collector import CardCollector

        collector = current.get("card")
        if not isinstance(collector, CardCollector):
            collector = CardCollector()
            add_extra("card", collector)
        card_type, card_id = self.attributes["type"], self.attributes["id"]
        index = self._index(flow, step_name)
        # The key must be the same in every hook: --with decorators are parsed anew each time.
        key = ("written", index) if index is not None else ("with", card_type, card_id)
        slot = collector.add_card(card_type, card_id, key, index)
        return collector, slot

    def _index(self, flow: Any, step_name: str) -> int | None:
        """Position among the step's cards as written, top to bottom; None for --with ones
        (they come after)."""
        func = getattr(type(flow), step_name, None)
        written = [d for d in reversed(getattr(func, "decorators", ())) if d.name == self.name]
        for i, deco in enumerate(written):
            if deco is self:
                return i
        return None

    def task_pre_step(self, flow: Any, step_name: str, retry_count: int) -> None:
        from headwater.cards.custom import allows_components, find_card_type

        collector, slot = self._slot(flow, step_name)
        card_type = self.attributes["type"]
        slot.editable = allows_components(card_type)
        slot.preferred = bool(self.attributes["customize"]) and slot.editable
        cls = None if card_type in ("default", "blank") else find_card_type(card_type)
        if cls is not None and cls.RUNTIME_UPDATABLE:
            slot.components.live = partial(self._render_live, cls, flow, step_name)

    def _render_live(self, cls: Any, flow: Any, step_name: str, data: Any) -> None:
        """``current.card.refresh(data)`` on a runtime-updatable card: render it now with
        ``render_runtime`` (what readers see while the task runs) and keep the data."""
        from headwater.cards.live import render_live

        collector, slot = self._slot(flow, step_name)
        binding = flow.__dict__.get("_hw_binding")
        if binding is None:
            return
        render_live(cls, slot, self.attributes["options"], binding.ds, binding.path, data)

    def task_finished(
        self, flow: Any, step_name: str, ok: bool, datastore: Any, attempt: Any
    ) -> None:
        from headwater.cards.card_types import CARD_TYPES, render_card
        from headwater.cards.custom import find_card_type, why_missing
        from headwater.cards.store import write_card

        failure = sys.exc_info()[1] if not ok else None
        collector, slot = self._slot(flow, step_name)
        if collector.finished_at is None:
            collector.finished_at = time.time()
        facts = collector.cache.get(_FACTS)
        if facts is None:
            facts = _task_facts(collector, ok, failure, datastore, attempt)
            facts.source = _step_source(type(flow), step_name)
            collector.cache[_FACTS] = facts
        html = render_card(
            slot.type,
            facts,
            slot.components,
            self.attributes["options"],
            float(self.attributes["timeout"]),
            task=_task_of(attempt),
            save_errors=bool(self.attributes["save_errors"]),
        )
        if slot.type not in CARD_TYPES and find_card_type(slot.type) is None:
            sys.stderr.write(
                f"headwater: @card(type={slot.type!r}): {why_missing(slot.type)}; the card "
                "shows this error instead\n"
            )
        if html is None:
            return  # @card(save_errors=False): a card that failed is not kept
        card = write_card(datastore, attempt, slot.index, slot.type, slot.id, html)
        live = getattr(slot.components, "live_data", None)
        if live is not None:
            from headwater.cards.store import write_card_data

            write_card_data(datastore, attempt, card.name, live)


def _task_of(attempt: Any) -> Any:
    """A function giving the finished task's client Task (what custom card types render)."""

    def task() -> Any:
        from headwater.client.task import Task

        made = current.task
        if made is None or made.pathspec != attempt.pathspec:
            made = Task(attempt.pathspec, _namespace_check=False)
        return made

    return task


def _step_source(flow_cls: type, step_name: str) -> str | None:
    """The step function's source, decorators included (None when it cannot be read, as for
    a flow typed into an interpreter)."""
    import inspect
    import textwrap

    try:
        return textwrap.dedent(inspect.getsource(getattr(flow_cls, step_name)))
    except (OSError, TypeError, AttributeError):
        return None


def _task_facts(
    collector: CardCollector,
    ok: bool,
    failure: BaseException | None,
    datastore: Datastore,
    attempt: AttemptPath,
) -> TaskFacts:
    from headwater.cards.card_types import ArtifactEntry, TaskFacts
    from headwater.cards.render import exception_text

    try:
        refs = datastore.read_index(attempt).artifacts
    except HeadwaterException:
        refs = {}  # nothing was saved; the card still shows the task
    parameter_names = set(current.parameter_names or ())
    parameters: list[ArtifactEntry] = []
    artifacts: list[ArtifactEntry] = []
    for name in sorted(refs):
        if name.startswith("_"):
            continue
        ref = refs[name]
        entry = ArtifactEntry(
            name, ref.type, ref.size, partial(datastore.load_value, attempt.flow, ref.key)
        )
        (parameters if name in parameter_names else artifacts).append(entry)
    return TaskFacts(
        flow=attempt.flow,
        run_id=attempt.run_id,
        step=attempt.step,
        task_id=attempt.task_id,
        attempt=attempt.attempt,
        ok=ok,
        started_at=collector.started_at,
        finished_at=collector.finished_at,
        username=current.username,
        tags=tuple(sorted(run_tags())),
        exception=exception_text(failure) if failure is not None else None,
        parameters=tuple(parameters),
        artifacts=tuple(artifacts),
        graph=current.graph,
        rendered_at=time.time(),
    )


card = make_step_decorator(CardDecorator)
