"""Running the metadata service: migrate the database, then serve the application with uvicorn
until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import threading
import time

from headwater.service import logs, operations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.metadata_store.postgres import PostgresMetadata

KEEP_ANSWERS_S = 24 * 3600.0  # recorded answers of writes (idempotency keys) are kept a day
KEEP_ALIVE_S = 75  # idle client connections stay open this long


def prepare(store: PostgresMetadata) -> int:
    """Bring the database to the current schema (raises a one-line error when it cannot) and
    give every held run a fresh lease, so runtimes that could not reach a stopped service can
    check in again; returns how many runs that was."""
    return store.extend_leases()


def _forget_old_answers(store: PostgresMetadata) -> None:
    while True:
        with contextlib.suppress(Exception):  # the database may be away: try later
            operations.forget_old_requests(store, KEEP_ANSWERS_S, time.time())
        time.sleep(3600)


def serve(store: PostgresMetadata, host: str, port: int, log_level: str = "info") -> None:
    import uvicorn

    from headwater.service.app import make_app

    threading.Thread(
        target=_forget_old_answers, args=(store,), name="headwater-forget-answers", daemon=True
    ).start()
    config = uvicorn.Config(
        make_app(store),
        host=host,
        port=port,
        log_config=logs.config(log_level),
        timeout_keep_alive=KEEP_ALIVE_S,
        server_header=False,
        access_log=True,
        proxy_headers=False,
    )
    uvicorn.Server(config).run()
