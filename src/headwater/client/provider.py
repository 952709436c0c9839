"""Which datastore root the client reads: ``metadata()``, ``get_metadata()``, and the stores.

A provider is written ``local@PATH`` where PATH is a ``.headwater`` directory (the datastore
root). Until ``metadata()`` picks one, the root is found again for each new top-level object
(HEADWATER_ROOT, else the nearest ``.headwater`` walking up from the working directory), so a
notebook that changes directory or sets HEADWATER_ROOT reads the right store. Store objects are
made once per root and shared by every client object reading that root.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater import config
from headwater.exceptions import DatastoreNotFound, MetadataError

LOCAL = "local"
METADATA_FILE = "metadata.db"


@dataclass(frozen=True)
class Connection:
    """The stores of one datastore root: metadata records and artifact blobs/indexes."""

    root: Path
    metadata: Any  # a headwater.metadata_store.store.MetadataStore
    datastore: Any  # a LocalDatastore (load_value, read_index, read_log, ...)

    @property
    def provider(self) -> str:
        return f"{LOCAL}@{self.root}"


_lock = threading.Lock()
_connections: dict[Path, Connection] = {}
_explicit_root: Path | None = None


def connect(root: str | Path) -> Connection:
    """The (cached) stores of the datastore at ``root``, which must exist."""
    path = config.root_for_reading(root)
    with _lock:
        conn = _connections.get(path)
        if conn is None:
            from headwater.datastore.local import LocalDatastore
            from headwater.metadata_store.sqlite import SqliteMetadata

            conn = Connection(path, SqliteMetadata(path / METADATA_FILE), LocalDatastore(path))
            _connections[path] = conn
        return conn


def current_connection() -> Connection:
    """The stores of the selected provider (``metadata()``), else of the root found now."""
    root = _explicit_root
    if root is None:
        root = config.root_for_reading()
    return connect(root)


def reconnect(root: str | None) -> Connection:
    """Stores for an unpickled object: its own root when it still exists, else the current."""
    if root and Path(root).is_dir():
        return connect(root)
    return current_connection()


def _resolve_local(path: str) -> Path:
    p = Path(path).expanduser().resolve()
    if not (p / METADATA_FILE).exists() and (p / config.ROOT_DIR_NAME).is_dir():
        p = p / config.ROOT_DIR_NAME  # given the project directory rather than its root
    if not p.is_dir():
        raise DatastoreNotFound(
            f"no headwater datastore at {p}: give metadata() the path of a .headwater "
            "directory, e.g. metadata('local@/path/to/project/.headwater')"
        )
    return p


def metadata(ms: str) -> str:
    """Select where the client reads from; returns the provider string (see get_metadata).

    ``ms`` is ``local@PATH`` (PATH: a ``.headwater`` datastore root, or the directory holding
    one), a plain PATH, or ``local`` to go back to the default lookup.
    """
    global _explicit_root
    if not isinstance(ms, str) or not ms.strip():
        raise MetadataError(f"metadata() takes a string like 'local@/path/.headwater', got {ms!r}")
    kind, sep, info = ms.partition("@")
    if not sep:
        if ms == LOCAL:
            _explicit_root = None
            return get_metadata()
        if ms.startswith(("http://", "https://")):
            kind, info = "service", ms
        else:
            kind, info = LOCAL, ms
    if kind == "service":
        raise MetadataError(
            f"the metadata service ({info}) is not supported by this headwater client: "
            "use metadata('local@PATH') with the path of a .headwater directory"
        )
    if kind != LOCAL:
        raise MetadataError(f"unknown metadata provider {kind!r} in {ms!r}: use 'local@PATH'")
    if not info:
        _explicit_root = None
        return get_metadata()
    _explicit_root = _resolve_local(info)
    return get_metadata()


def default_metadata() -> str:
    """Forget a provider chosen with metadata(); returns the default provider string."""
    global _explicit_root
    _explicit_root = None
    return get_metadata()


def get_metadata() -> str:
    """The provider the client reads, e.g. ``local@/home/me/project/.headwater``."""
    root = _explicit_root
    if root is None:
        root = config.root_for_reading()
    return f"{LOCAL}@{root}"
