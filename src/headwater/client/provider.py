"""What the client reads: ``metadata()``, ``get_metadata()``, and the stores behind them.

A provider is written ``local@PATH`` (PATH: a ``.headwater`` directory, holding the SQLite
metadata) or ``service@URL`` (a metadata service). Until ``metadata()`` picks one, the
provider follows the settings (``HEADWATER_DEFAULT_METADATA``, ``HEADWATER_SERVICE_URL``, the
settings file; see headwater.settings) and, for local metadata, the root is found again for
each new top-level object (``HEADWATER_ROOT``, else the nearest ``.headwater`` walking up from
the working directory), so a notebook that changes directory or sets HEADWATER_ROOT reads the
right store. The datastore holding artifacts comes from the settings too (a local one lives
in the same root). Stores are made once per provider and shared by every client object
reading through it; they come from the one resolver, headwater.stores.
"""

from __future__ import annotations

import _thread
import os

from headwater import config
from headwater.exceptions import DatastoreNotFound, MetadataError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.datastore.store import Datastore
    from headwater.metadata_store.store import MetadataStore
    from headwater.settings import Settings
    from headwater.stores import Stores

LOCAL = "local"
SERVICE = "service"


class Connection:
    """The stores behind one provider: metadata records, and the datastore of artifacts and
    logs (opened on first use: a lookup of runs never loads the artifact layer)."""

    __slots__ = ("provider", "settings", "local_root", "metadata", "_datastore")

    def __init__(
        self,
        provider: str,
        settings: Settings,
        local_root: str | None,
        metadata: MetadataStore | None = None,
        datastore: Datastore | None = None,
    ) -> None:
        self.provider = provider
        self.settings = settings
        self.local_root = local_root
        if metadata is None:
            from headwater.stores import open_metadata

            metadata = open_metadata(settings, local_root)
        self.metadata: MetadataStore = metadata
        self._datastore = datastore

    @property
    def root(self) -> str:
        """Where the records are, for messages: the local root or the service URL."""
        return self.provider.partition("@")[2]

    @property
    def datastore(self) -> Datastore:
        if self._datastore is None:
            from headwater.stores import datastore_root, open_datastore

            s = self.settings
            self._datastore = open_datastore(s.datastore, datastore_root(s, self.local_root), s)
        return self._datastore


_lock = _thread.allocate_lock()
_connections: dict[str, Connection] = {}
_explicit: str | None = None  # the provider chosen with metadata()


def _settings() -> Settings:
    from headwater.settings import load_settings

    return load_settings()


def _default_provider() -> str:
    """The provider the settings name: the service, or the local root found now."""
    settings = _settings()
    if settings.metadata == SERVICE and settings.service_url:
        return f"{SERVICE}@{settings.service_url}"
    if settings.metadata not in (LOCAL, SERVICE):
        return f"{settings.metadata}@"
    if settings.metadata == SERVICE:
        raise MetadataError(
            "the metadata service is selected but no URL is set: set HEADWATER_SERVICE_URL, "
            "or run `headwater configure`"
        )
    explicit = settings.datastore_root if settings.datastore == LOCAL else None
    return f"{LOCAL}@{config.reading_root(explicit)}"


def connect(provider: str | os.PathLike[str]) -> Connection:
    """The (cached) stores of ``provider`` (``local@PATH``, ``service@URL``, or a PATH)."""
    text = os.fspath(provider)
    kind, sep, where = text.partition("@")
    if not sep:
        kind, where = LOCAL, text
    if kind == LOCAL:
        where = config.reading_root(where)
    key = f"{kind}@{where}"
    with _lock:
        conn = _connections.get(key)
        if conn is None:
            settings = _settings()
            if kind == LOCAL:
                settings = settings._replace(metadata=LOCAL)
                if settings.datastore == LOCAL:
                    settings = settings._replace(datastore_root=where)
                conn = Connection(key, settings, where)
            else:
                settings = settings._replace(metadata=kind, service_url=where or None)
                local = None
                if settings.datastore == LOCAL:  # artifacts in a local directory
                    local = config.reading_root(settings.datastore_root)
                conn = Connection(key, settings, local)
            _connections[key] = conn
        return conn


def connection_of(stores: Stores) -> Connection:
    """A connection over stores resolved elsewhere (a command's options)."""
    s = stores.settings
    where = stores.local_root if s.metadata == LOCAL else s.service_url
    return Connection(
        f"{s.metadata}@{where}", s, stores.local_root, stores.metadata, stores.datastore
    )


def current_connection() -> Connection:
    """The stores of the selected provider (``metadata()``), else of the settings now."""
    return connect(_explicit if _explicit is not None else _default_provider())


def reconnect(provider: str | None) -> Connection:
    """Stores for an unpickled object: its own provider when it is still there, else the
    current one."""
    if provider:
        kind, sep, where = provider.partition("@")
        if not sep:  # pickled by an older headwater: a local root
            kind, where = LOCAL, provider
        if kind != LOCAL or os.path.isdir(where):
            return connect(provider)
    return current_connection()


def use(conn: Connection) -> None:
    """Make ``conn`` the selected provider (a task reads its own run's stores)."""
    global _explicit
    with _lock:
        _connections[conn.provider] = conn
    _explicit = conn.provider


def _resolve_local(path: str) -> str:
    from headwater.stores import local_root_given

    p = local_root_given(os.path.realpath(os.path.expanduser(path)))
    if not os.path.isdir(p):
        raise DatastoreNotFound(
            f"no headwater datastore at {p}: give metadata() the path of a .headwater "
            "directory, e.g. metadata('local@/path/to/project/.headwater')"
        )
    return p


def metadata(ms: str) -> str:
    """Select where the client reads from; returns the provider string (see get_metadata).

    ``ms`` is ``local@PATH`` (PATH: a ``.headwater`` datastore root, or the directory holding
    one), a plain PATH, ``service@URL`` or a plain ``http(s)://`` URL (a metadata service;
    its token comes from HEADWATER_SERVICE_TOKEN or the settings file), or ``local`` /
    ``service`` to go back to the default lookup of that kind.
    """
    global _explicit
    if not isinstance(ms, str) or not ms.strip():
        raise MetadataError(f"metadata() takes a string like 'local@/path/.headwater', got {ms!r}")
    kind, sep, info = ms.partition("@")
    if not sep:
        if ms in (LOCAL, SERVICE):
            kind, info = ms, ""
        elif ms.startswith(("http://", "https://")):
            kind, info = SERVICE, ms
        else:
            kind, info = LOCAL, ms
    if kind not in (LOCAL, SERVICE):
        raise MetadataError(
            f"unknown metadata provider {kind!r} in {ms!r}: use 'local@PATH' or 'service@URL'"
        )
    if not info:
        if kind == LOCAL:
            _explicit = None
            return get_metadata()
        url = _settings().service_url
        if not url:
            raise MetadataError(
                "metadata('service') needs the service's URL: give it as "
                "metadata('service@http://host:8325') or set HEADWATER_SERVICE_URL"
            )
        info = url
    if kind == SERVICE and not info.startswith(("http://", "https://")):
        raise MetadataError(
            f"the metadata service URL {info!r} must start with http:// or https://"
        )
    _explicit = f"{LOCAL}@{_resolve_local(info)}" if kind == LOCAL else f"{SERVICE}@{info}"
    return get_metadata()


def default_metadata() -> str:
    """Forget a provider chosen with metadata(); returns the default provider string."""
    global _explicit
    _explicit = None
    return get_metadata()


def get_metadata() -> str:
    """The provider the client reads, e.g. ``local@/home/me/project/.headwater``."""
    return _explicit if _explicit is not None else _default_provider()
