"""The interface callers use for artifacts, indexes, logs, task results, cards and code.

One implementation, :class:`headwater.datastore.content_store.ContentStore`, serves every
storage backend; runtime, client, cards and UI are typed against this protocol, and tests may
give them anything that has these methods.

Key layout (the same in every backend; see DESIGN.md, "Data on disk")::

    <Flow>/blobs/<key[:2]>/<key>                          one blob per distinct value
    <Flow>/packages/<key>.tgz                             code packages
    <Flow>/<run>/<step>/<task>/<attempt>/index.json       the attempt's artifact index
    <Flow>/<run>/<step>/<task>/<attempt>/result.json      its TaskResult
    <Flow>/<run>/<step>/<task>/<attempt>/stdout, stderr   its logs
    <Flow>/<run>/<step>/<task>/<attempt>/cards/<name>     its cards
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from headwater.core.ids import AttemptPath
from headwater.datastore.records import ArtifactRef, TaskIndex
from headwater.datastore.storage import LogSink, Storage

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Protocol
else:  # interfaces only: at run time a plain base, and typing is never imported
    Protocol = object


class Datastore(Protocol):
    storage: Storage
    save_s: float  # seconds spent in save_values (a task reports them)
    load_s: float  # seconds spent in load_value
    small_blobs: dict[str, bytes] | None  # small blobs written, kept for a far datastore

    @property
    def url(self) -> str:
        """Where the data is, as a user writes it (a directory, ``s3://bucket/prefix``)."""
        ...

    def attempt_key(self, path: AttemptPath) -> str:
        """The key prefix of one attempt (``Flow/run/step/task/attempt``)."""
        ...

    # --- artifacts --------------------------------------------------------------------------
    def save_values(self, flow: str, values: Mapping[str, Any]) -> dict[str, ArtifactRef]:
        """Serialize and store each value, writing a blob only for content not stored yet;
        one ref per name. An unpicklable value raises UnpicklableArtifact naming it."""
        ...

    def load_value(self, flow: str, key: str, track: bool = False) -> Any:
        """The value stored under ``key``; with ``track``, remember a memory-mapped blob so
        that ``unchanged_since_load`` can tell the value was not modified."""
        ...

    def load_values(self, flow: str, keys: Sequence[str]) -> dict[str, Any]:
        """Several small values at once (in parallel where the storage can), by key; a key
        whose blob is missing is left out (``load_value`` then says why)."""
        ...

    def save_encoded(self, flow: str, name: str, codec: str, pieces: Any, type: str) -> ArtifactRef:
        """Store a payload another codec encoded (``neutral`` or ``rds``, from an R step);
        ``type`` is what listings show. Its ref records the codec."""
        ...

    def load_payload(self, flow: str, key: str) -> tuple[str, memoryview]:
        """The codec of a stored value and its payload, undecoded."""
        ...

    def unchanged_since_load(self, key: str, value: Any) -> bool: ...

    def has_blob(self, flow: str, key: str) -> bool: ...

    # --- artifact indexes -------------------------------------------------------------------
    def write_index(self, path: AttemptPath, index: TaskIndex) -> None: ...

    def read_index(self, path: AttemptPath) -> TaskIndex:
        """Raises IndexNotFound when the attempt has none."""
        ...

    def read_indexes(self, paths: Sequence[AttemptPath]) -> list[TaskIndex]:
        """Several indexes at once (in parallel where the storage can), in order; raises
        IndexNotFound for the first one missing."""
        ...

    def has_index(self, path: AttemptPath) -> bool: ...

    def copy_index(self, src: AttemptPath, dst: AttemptPath) -> None:
        """Give ``dst`` the index of ``src`` (keys only, no blob is copied)."""
        ...

    # --- task results -----------------------------------------------------------------------
    def write_result(self, path: AttemptPath, data: bytes) -> None: ...

    def read_result(self, path: AttemptPath) -> bytes | None: ...

    # --- logs -------------------------------------------------------------------------------
    def open_log(self, path: AttemptPath, stream: str) -> LogSink: ...

    def read_log(self, path: AttemptPath, stream: str) -> bytes:
        """An attempt's ``stdout`` or ``stderr``; ``b""`` when there is none."""
        ...

    def read_log_range(self, path: AttemptPath, stream: str, offset: int, length: int) -> bytes:
        """Part of a log (the end of a long one, for a page that shows its tail)."""
        ...

    def log_size(self, path: AttemptPath, stream: str) -> int:
        """The log's size in bytes; 0 when there is none."""
        ...

    def copy_logs(self, src: AttemptPath, dst: AttemptPath) -> None: ...

    # --- cards ------------------------------------------------------------------------------
    def write_card(self, path: AttemptPath, name: str, html: str) -> None: ...

    def list_cards(self, path: AttemptPath) -> list[str]:
        """File names of an attempt's cards, sorted."""
        ...

    def read_card(self, path: AttemptPath, name: str) -> str: ...

    # --- code packages ----------------------------------------------------------------------
    def save_package(self, flow: str, data: bytes) -> str:
        """Store a code package (a .tgz), content-addressed; returns its key."""
        ...

    def load_package(self, flow: str, key: str) -> bytes: ...

    def close(self) -> None: ...
