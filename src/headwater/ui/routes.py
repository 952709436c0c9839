"""URLs of the UI and what answers them. Every path segment is percent-decoded on its own, so
a name containing '/' or '?' can never be mistaken for another route.

    /                                               flows
    /flow/<flow>?tag=&status=&page=                 runs of a flow
    /run/<flow>/<run>                               one run
    /task/<flow>/<run>/<step>/<task>?attempt=       one task
    /log/<flow>/<run>/<step>/<task>/<attempt>/<stream>   a whole log, as text
    /card/<flow>/<run>/<step>/<task>/<attempt>/<file>    a card, as its own HTML document
    /api/run/<flow>/<run>, /api/task/<flow>/<run>/<step>/<task>?attempt=   live status (JSON)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from urllib.parse import unquote

from headwater.exceptions import ObjectNotFound
from headwater.record import Record
from headwater.ui import live
from headwater.ui.layout import Page
from headwater.ui.pages.flows import flows_page
from headwater.ui.pages.run import run_page
from headwater.ui.pages.runs import runs_page
from headwater.ui.pages.task import task_page
from headwater.ui.queries import Stores
from headwater.ui.task_queries import attempt_path, card_html, log_file

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

Query = Mapping[str, list[str]]


class Reply(Record):
    """A non-page answer: JSON, a log as text, a card document."""

    content_type: str
    body: bytes
    kind: str  # "json", "text" or "card": which headers the server adds
    status: int = 200


def _json(data: Mapping[str, Any]) -> Reply:
    return Reply("application/json", json.dumps(data).encode(), "json")


def _flows(stores: Stores, args: list[str], query: Query) -> Page:
    return flows_page(stores)


def _runs(stores: Stores, args: list[str], query: Query) -> Page:
    return runs_page(stores, args[0], query)


def _run(stores: Stores, args: list[str], query: Query) -> Page:
    return run_page(stores, *args)


def _task(stores: Stores, args: list[str], query: Query) -> Page:
    flow, run_id, step, task_id = args
    return task_page(stores, flow, run_id, step, task_id, query)


def _log(stores: Stores, args: list[str], query: Query) -> Reply:
    path = attempt_path(stores, *args[:5])
    return Reply("text/plain; charset=utf-8", log_file(stores, path, args[5]), "text")


def _card(stores: Stores, args: list[str], query: Query) -> Reply:
    path = attempt_path(stores, *args[:5])
    return Reply("text/html; charset=utf-8", card_html(stores, path, args[5]), "card")


def _api_run(stores: Stores, args: list[str], query: Query) -> Reply:
    return _json(live.run_status(stores, *args))


def _api_task(stores: Stores, args: list[str], query: Query) -> Reply:
    attempt = (query.get("attempt") or (None,))[-1]
    flow, run_id, step, task_id = args
    return _json(live.task_status(stores, flow, run_id, step, task_id, attempt))


Handler = Callable[[Stores, list[str], Query], "Page | Reply"]

# (leading segments, number of arguments after them, handler)
ROUTES: tuple[tuple[tuple[str, ...], int, Handler], ...] = (
    ((), 0, _flows),
    (("flow",), 1, _runs),
    (("run",), 2, _run),
    (("task",), 4, _task),
    (("log",), 6, _log),
    (("card",), 6, _card),
    (("api", "run"), 2, _api_run),
    (("api", "task"), 4, _api_task),
)


def split_path(path: str) -> list[str]:
    """``/a/b%2Fc/`` -> ``["a", "b/c"]`` (a trailing slash is ignored)."""
    raw = path.split("/")[1:]
    if raw and raw[-1] == "":
        raw = raw[:-1]
    return [unquote(p) for p in raw]


def dispatch(stores: Stores, path: str, query: Query) -> Page | Reply:
    """The answer to a GET of ``path``; ObjectNotFound for a URL or object that is not there."""
    parts = split_path(path)
    for prefix, nargs, handler in ROUTES:
        n = len(prefix)
        if len(parts) == n + nargs and tuple(parts[:n]) == prefix:
            args = parts[n:]
            if any(not a for a in args):
                break
            return handler(stores, args, query)
    raise ObjectNotFound(f"there is no page at {path}")
