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

from headwater.cards.store import write_card, write_card_data
from headwater.core.current import current

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.core.ids import AttemptPath
    from headwater.datastore.store import Datastore


def render_live(
    cls: Any, slot: Any, options: Any, ds: Datastore, path: AttemptPath, user_data: Any
) -> None:
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
        written = None
        if isinstance(html, str):
            written = write_card(ds, path, slot.index, slot.type, slot.id, html)
        try:
            kept = card.refresh(task, {**data, "mode": "refresh"})
        except NotImplementedError:
            kept = data
        components.live_data = kept if _json_ok(kept) else data
        if written is not None:
            write_card_data(ds, path, written.name, components.live_data)
    except Exception as ex:  # noqa: BLE001 - a live card must never fail the step
        sys.stderr.write(
            f"headwater: current.card.refresh() could not render the {slot.type} card: "
            f"{type(ex).__name__}: {ex}\n"
        )


def _json_ok(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
