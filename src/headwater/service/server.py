"""Running the metadata service: migrate the database, then serve the application with uvicorn
until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import threading
import time

from headwater.service import logs, operations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from fastapi import FastAPI

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


DB_ENV = "HEADWATER_SERVICE_WORKER_DB"  # how worker processes learn the database


def worker_app() -> object:
    """The application of one worker process (``--workers`` above 1): its own pool."""
    import os

    from headwater.metadata_store.postgres import PostgresMetadata
    from headwater.service.app import make_app

    return make_app(
        PostgresMetadata(os.environ[DB_ENV], pool_max=int(os.environ[DB_ENV + "_POOL"]))
    )


def serve(
    store: PostgresMetadata, host: str, port: int, log_level: str = "info", workers: int = 1
) -> None:
    import uvicorn

    from headwater.service.app import make_app

    threading.Thread(
        target=_forget_old_answers, args=(store,), name="headwater-forget-answers", daemon=True
    ).start()
    if workers > 1:
        import os

        os.environ[DB_ENV] = store.dsn
        os.environ[DB_ENV + "_POOL"] = str(store.pool_max)
        app: FastAPI | str = "headwater.service.server:worker_app"
    else:
        app = make_app(store)
    settings: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": logs.config(log_level),
        "timeout_keep_alive": KEEP_ALIVE_S,
        "server_header": False,
        "access_log": True,
        "proxy_headers": False,
    }
    if workers > 1:
        uvicorn.run(app, factory=True, workers=workers, **settings)
    else:
        uvicorn.Server(uvicorn.Config(app, **settings)).run()
