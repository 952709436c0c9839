"""The reads of the SQLite metadata store: sql_reads over sqlite_queries, with the run leases
(see run_leases) by which they report a run whose runtime is gone as INTERRUPTED."""

from __future__ import annotations

from headwater.metadata_store import sqlite_queries
from headwater.metadata_store.records import RunRecord, RunStatus
from headwater.metadata_store.sql_reads import SqlReads
from headwater.metadata_store.sqlite_queries import run_query, runs_from_rows

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence
    from typing import Any

    from headwater.metadata_store.run_leases import RunLeases
    from headwater.metadata_store.sqlite_connection import SqliteConnection


class SqliteReads(SqlReads):
    """The read side of SqliteMetadata, which supplies ``path`` and ``_db`` and starts
    ``_lease_book`` as None."""

    path: str
    _db: SqliteConnection
    _lease_book: RunLeases | None
    _queries = sqlite_queries

    @property
    def _leases(self) -> RunLeases:
        if self._lease_book is None:
            from headwater.metadata_store.run_leases import RunLeases

            self._lease_book = RunLeases(self.path)
        return self._lease_book

    def _settle_abandoned(self, flow: str, run_ids: Sequence[str]) -> set[str]:
        """See abandoned_runs; loaded only when there are RUNNING runs to look at."""
        if not run_ids:
            return set()
        from headwater.metadata_store.abandoned_runs import settle_abandoned

        return settle_abandoned(self._db, self._leases, flow, run_ids)

    def _settled(self, runs: list[RunRecord]) -> list[RunRecord]:
        """``runs`` with those whose runtime is gone reported INTERRUPTED (see run_leases)."""
        running = [r.run_id for r in runs if r.status is RunStatus.RUNNING]
        dead = self._settle_abandoned(runs[0].flow, running) if running else set()
        if not dead:
            return runs
        out = []
        for r in runs:
            if r.run_id in dead:
                again = runs_from_rows(self._db.read(*run_query(r.flow, r.run_id)))
                r = again[0] if again else r
                if r.status is RunStatus.RUNNING:  # a read-only file: report it anyway
                    r = r._replace(status=RunStatus.INTERRUPTED)
            out.append(r)
        return out

    def _read_runs(self, sql: str, params: Sequence[Any]) -> list[RunRecord]:
        return self._settled(runs_from_rows(self._db.read(sql, params)))

    def _settle_flow(self, flow: str) -> None:
        running = self._db.read(
            "SELECT run_id FROM runs WHERE flow = ? AND status = ?",
            (flow, RunStatus.RUNNING.value),
        )
        self._settle_abandoned(flow, [r for (r,) in running])
