"""The reads of the PostgreSQL metadata store: sql_reads over postgres_queries, recording as
INTERRUPTED the runs they find whose lease expired (see run_heartbeat)."""

from __future__ import annotations

from headwater.metadata_store import postgres_queries
from headwater.metadata_store.checks import coerce
from headwater.metadata_store.postgres_queries import (
    EXPIRED_IN_FLOW,
    RUN_BY_IDS,
    run_from_row,
    runs_json_query,
    settle_expired,
)
from headwater.metadata_store.records import RunStatus
from headwater.metadata_store.sql_reads import SqlReads, wanted_tags

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Sequence
    from typing import Any

    from headwater.metadata_store.postgres_connection import PostgresConnection
    from headwater.metadata_store.records import RunRecord


class PostgresReads(SqlReads):
    """The read side of PostgresMetadata, which supplies ``_db``."""

    _db: PostgresConnection
    _queries = postgres_queries

    def _settled(self, runs: list[tuple[Any, ...]]) -> list[RunRecord]:
        """Runs from rows of RUN_SELECT, those whose lease expired recorded INTERRUPTED."""
        expired = [row[1] for row in runs if row[-1]]
        if not expired:
            return [run_from_row(row) for row in runs]
        flow = runs[0][0]
        self._db.transact(lambda conn: settle_expired(conn, flow, expired))
        again = {row[1]: row for row in self._db.read(RUN_BY_IDS, (flow, expired))}
        return [run_from_row(again.get(row[1], row)) for row in runs]

    def _read_runs(self, sql: str, params: Sequence[Any]) -> list[RunRecord]:
        return self._settled(self._db.read(sql, params))

    def _settle_flow(self, flow: str) -> None:
        if self._db.read(EXPIRED_IN_FLOW, (flow,)):
            self._db.transact(lambda conn: settle_expired(conn, flow))

    def list_runs_json(
        self,
        flow: str,
        tags: Iterable[str] = (),
        limit: int | None = None,
        status: RunStatus | str | None = None,
    ) -> str:
        """list_runs as the metadata service answers it: a JSON array of runs named like
        RunRecord's fields, made by the database in one value. For 1000 runs the service's
        own work drops from building, converting and encoding 1000 records to passing text on.
        Expired leases are recorded first, so no run in the answer is RUNNING past its lease."""
        wanted = wanted_tags(tags)
        if limit is not None and limit <= 0:
            return "[]"
        self._settle_flow(flow)
        state = coerce(RunStatus, status) if status else None
        rows = self._db.read(*runs_json_query(flow, wanted, state, limit))
        return str(rows[0][0])
