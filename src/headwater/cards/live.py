"""Cards rendered while their task runs: ``current.card.refresh(data)`` on a card whose custom
type is ``RUNTIME_UPDATABLE``.

Each refresh calls the type's ``render_runtime(task, data)`` and writes the result where the
final card will be, so a reader (``card get``, the UI) sees the latest while the task runs;
the type's ``refresh(task, data)``, when it has one, gives the data kept beside the card
(``Card.get_data()``). ``data`` has Metaflow's shape: ``{"user": <what refresh was given>,
"components": {}, "render_seq": <n>, "mode": "render_runtime"}``. The final card, rendered
when the task finishes, replaces the last runtime one.
"""

from __future__ import annotations

import json
import sys
import time

from headwater.cards.store import card_data_path, card_file_name, cards_dir, write_card
from headwater.core.current import current
from headwater.datastore.atomic_file import write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def render_live(cls: Any, slot: Any, options: Any, ds: Any, path: Any, user_data: Any) -> None:
    """Render ``slot``'s card now with ``render_runtime``; never raises (a failure is
    reported on the task's stderr, and the step goes on)."""
    components = slot.components
    seq = int(getattr(components, "render_seq", 0) or 0) + 1
    components.render_seq = seq
    data = {
        "user": user_data if _json_ok(user_data) else {},
        "components": {},
        "render_seq": seq,
        "component_update_ts": time.time(),
        "mode": "render_runtime",
    }
    try:
        card = cls(
            options=dict(options or {}),
            components=list(components) if cls.ALLOW_USER_COMPONENTS else [],
            graph=current.graph,
            flow=None,
        )
        task = current.task
        html = card.render_runtime(task, data)
        if isinstance(html, str):
            write_card(ds.attempt_dir(path), slot.index, slot.type, slot.id, html)
        try:
            kept = card.refresh(task, {**data, "mode": "refresh"})
        except NotImplementedError:
            kept = data
        components.live_data = kept if _json_ok(kept) else data
        write_card_data(ds.attempt_dir(path), slot, components.live_data)
    except Exception as ex:  # noqa: BLE001 - a live card must never fail the step
        sys.stderr.write(
            f"headwater: current.card.refresh() could not render the {slot.type} card: "
            f"{type(ex).__name__}: {ex}\n"
        )


def write_card_data(attempt_dir: Any, slot: Any, data: Any) -> None:
    """Keep ``data`` (JSON) beside the card of ``slot``."""
    name = card_file_name(slot.index, slot.type, slot.id)
    target = card_data_path(cards_dir(attempt_dir) / name)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(str(target), [json.dumps(data, default=str).encode("utf-8")], False)


def _json_ok(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
