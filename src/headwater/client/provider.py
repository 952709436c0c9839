"""Which datastore root the client reads: ``metadata()``, ``get_metadata()``, and the stores.

A provider is written ``local@PATH`` where PATH is a ``.headwater`` directory (the datastore
root). Until ``metadata()`` picks one, the root is found again for each new top-level object
(HEADWATER_ROOT, else the nearest ``.headwater`` walking up from the working directory), so a
notebook that changes directory or sets HEADWATER_ROOT reads the right store. Store objects are
made once per root and shared by every client object reading that root.
"""

from __future__ import annotations

import _thread
import os

from headwater import config
from headwater.exceptions import DatastoreNotFound, MetadataError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

LOCAL = "local"
METADATA_FILE = "metadata.db"


class Connection:
    """The stores of one datastore root (an absolute path): metadata records, and artifact
    blobs/indexes (opened on first use: a lookup of runs never loads the artifact layer)."""

    __slots__ = ("root", "metadata", "_datastore")

    def __init__(
        self, root: str | os.PathLike[str], metadata: Any = None, datastore: Any = None
    ) -> None:
        self.root = os.fspath(root)
        if metadata is None:
            from headwater.metadata_store.sqlite import SqliteMetadata

            metadata = SqliteMetadata(os.path.join(self.root, METADATA_FILE))
        self.metadata: Any = metadata  # a headwater.metadata_store.store.MetadataStore
        self._datastore: Any = datastore

    @property
    def datastore(self) -> Any:
        """A LocalDatastore (load_value, read_index, read_log, ...)."""
        if self._datastore is None:
            from headwater.datastore.local import LocalDatastore

            self._datastore = LocalDatastore(self.root)
        return self._datastore

    @property
    def provider(self) -> str:
        return f"{LOCAL}@{self.root}"


_lock = _thread.allocate_lock()
_connections: dict[str, Connection] = {}
_explicit_root: str | None = None


def connect(root: str | os.PathLike[str]) -> Connection:
    """The (cached) stores of the datastore at ``root``, which must exist."""
    path = config.reading_root(root)
    with _lock:
        conn = _connections.get(path)
        if conn is None:
            conn = _connections[path] = Connection(path)
        return conn


def current_connection() -> Connection:
    """The stores of the selected provider (``metadata()``), else of the root found now."""
    root = _explicit_root
    if root is None:
        root = config.reading_root()
    return connect(root)


def reconnect(root: str | None) -> Connection:
    """Stores for an unpickled object: its own root when it still exists, else the current."""
    if root and os.path.isdir(root):
        return connect(root)
    return current_connection()


def _resolve_local(path: str) -> str:
    p = os.path.realpath(os.path.expanduser(path))
    nested = os.path.join(p, config.ROOT_DIR_NAME)
    if not os.path.exists(os.path.join(p, METADATA_FILE)) and os.path.isdir(nested):
        p = nested  # given the project directory rather than its root
    if not os.path.isdir(p):
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
        root = config.reading_root()
    return f"{LOCAL}@{root}"
