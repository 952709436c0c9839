"""The one resolver: settings in, a (Datastore, MetadataStore) pair out.

The command line, the client, the UI, a task and the Runner all get their stores here, and
nothing else builds a store or knows a backend's file names. Backends are found by name in
:mod:`headwater.registry` (``storage``: ``local``, ``s3``; ``metadata``: ``local``,
``service``), and each is made by its class's ``from_settings``.

The local directory (a ``.headwater`` root) is used when the datastore or the metadata is
local: it holds the blobs of a local datastore and the SQLite file of local metadata. For
reading it must exist (found from ``HEADWATER_ROOT``, else by walking up from the working
directory, like git); for a run it is created when missing.
"""

from __future__ import annotations

from headwater import config
from headwater.exceptions import SettingsError
from headwater.record import Record
from headwater.settings import Settings, load_settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.storage import Storage
    from headwater.datastore.store import Datastore
    from headwater.metadata_store.store import MetadataStore

LOCAL = "local"


class Stores(Record):
    """What a command, a client or a task reads and writes."""

    datastore: Datastore
    metadata: MetadataStore
    settings: Settings
    local_root: str | None = None  # the .headwater directory, when one is used

    def describe(self) -> str:
        """Where runs are kept, for messages: a directory, or the datastore and service."""
        s = self.settings
        where = self.datastore.url
        if s.metadata != LOCAL:
            where += f" (metadata: {s.metadata} at {s.service_url})"
        return where

    def close(self) -> None:
        self.metadata.close()
        self.datastore.close()


def local_metadata_file(root: str) -> str:
    """The SQLite file of local metadata in the local root ``root``."""
    import os

    from headwater.metadata_store.sqlite import DATABASE_FILE

    return os.path.join(root, DATABASE_FILE)


def local_root_given(path: str) -> str:
    """The local root a user means by ``path``: the root itself, or the ``.headwater`` root of
    the project directory ``path`` (when ``path`` holds no local metadata and has one)."""
    import os

    nested = os.path.join(path, config.ROOT_DIR_NAME)
    if not os.path.exists(local_metadata_file(path)) and os.path.isdir(nested):
        return nested
    return path


def _local_root(settings: Settings, for_run: bool) -> str:
    explicit = settings.datastore_root if settings.datastore == LOCAL else None
    return config.run_root(explicit) if for_run else config.reading_root(explicit)


def datastore_root(settings: Settings, local_root: str | None) -> str:
    """The datastore's root: the local root for a local datastore, else the setting."""
    if settings.datastore == LOCAL:
        assert local_root is not None, "a local datastore needs the local root"
        return local_root
    if not settings.datastore_root:
        raise SettingsError(
            f"the {settings.datastore} datastore needs a root: pass --datastore-root, set "
            "HEADWATER_DATASTORE_ROOT, or run `headwater configure`"
        )
    return settings.datastore_root


def open_storage(kind: str, root: str, settings: Settings | None = None) -> Storage:
    """The storage backend ``kind`` at ``root`` (a path, an ``s3://`` URL)."""
    from headwater.registry import load

    cls = load("storage", kind, "datastore")
    return cls.from_settings(root, settings or load_settings())


def open_datastore(kind: str, root: str, settings: Settings | None = None) -> Datastore:
    """The datastore of kind ``kind`` at ``root``: what a task opens from its spec."""
    from headwater.datastore.content_store import ContentStore

    return ContentStore(open_storage(kind, root, settings))


def open_metadata(settings: Settings, local_root: str | None) -> MetadataStore:
    from headwater.registry import load

    cls = load("metadata", settings.metadata, "metadata provider")
    return cls.from_settings(settings, local_root)


def open_stores(
    settings: Settings | None = None, *, for_run: bool = False, local_root: str | None = None
) -> Stores:
    """The stores ``settings`` name (read from the environment and settings file when not
    given). ``for_run``: a run will write there, so a missing local root is created.
    ``local_root``: the local directory to use, found or created by the caller."""
    settings = settings or load_settings()
    needs_local = settings.datastore == LOCAL or settings.metadata == LOCAL
    if needs_local and local_root is None:
        local_root = _local_root(settings, for_run)
    datastore = open_datastore(settings.datastore, datastore_root(settings, local_root), settings)
    metadata = open_metadata(settings, local_root)
    return Stores(datastore, metadata, settings, local_root)


def settings_for(
    datastore: str | None = None,
    datastore_root: str | None = None,
    metadata: str | None = None,
    **more: Any,
) -> Settings:
    """Settings from command-line style values (None: not given) over the environment."""
    return load_settings(
        datastore=datastore, datastore_root=datastore_root, metadata=metadata, **more
    )
