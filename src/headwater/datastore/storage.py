"""The byte-level storage every datastore backend implements: keys to bytes, nothing more.

A key is a ``/``-separated path relative to the backend's root (``Flow/blobs/ab/abcd...``,
``Flow/3/start/1/0/index.json``). Parts are never empty, ``.`` or ``..``, and hold no ``\\``
or NUL: :func:`check_key` refuses them, so no key can reach outside the root. What the bytes
mean (content-addressed blobs, artifact indexes, logs, task results, cards, code packages) is
the datastore's business (:mod:`headwater.datastore.content_store`); a backend only moves
bytes, and implements this protocol:

- ``put`` is atomic: a reader sees the old object (or none) or the whole new one, never a
  part. With ``if_absent`` an existing object is left alone (put-if-absent: blobs are
  content-addressed, so the first writer wins and the others cost one request).
- ``put_keyed_later`` stores bytes whose key is known only once they are written (a large
  blob hashed while it is written); backends that cannot rename simply wait for the key.
- ``get`` returns the whole object as a buffer (a local backend may memory-map a big one);
  ``get_range`` a part of it. A missing key raises :class:`KeyNotFound`.
- ``list`` finds keys under a prefix; ``delete`` removes one (missing is fine); ``copy``
  copies inside the backend, no bytes through the caller.
- ``appender`` gives a log sink: bytes written to it become readable under the key while it
  is open (local) or when it is flushed/closed (object stores, which rewrite the object).

Backends are registered by name (``local``, ``s3``) in :mod:`headwater.registry`
and chosen in one place, :mod:`headwater.stores`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from headwater.exceptions import DatastoreError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from mmap import mmap
    from typing import Protocol

    Chunk = bytes | bytearray | memoryview | mmap  # a local backend's get may map a big file
else:  # interfaces only: at run time a plain base, and typing is never imported
    Protocol = object
    Chunk = bytes | bytearray | memoryview


class KeyNotFound(DatastoreError):
    """No object is stored under the key."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


def check_part(part: str, what: str) -> str:
    """One part of a key (a flow, run, step or task name): refused when it could escape."""
    if (
        not isinstance(part, str)
        or part in ("", ".", "..")
        or "/" in part
        or "\\" in part
        or "\0" in part
    ):
        raise DatastoreError(
            f"invalid {what} {part!r} for a datastore key: it must be non-empty, not '.' or "
            "'..', and contain no '/', '\\' or NUL"
        )
    return part


def check_key(key: str) -> str:
    """A whole key: every part as :func:`check_part` wants it, no leading or trailing '/'."""
    if not isinstance(key, str) or not key:
        raise DatastoreError(f"invalid datastore key {key!r}: it must be a non-empty string")
    for part in key.split("/"):
        check_part(part, f"part of key {key!r}:")
    return key


def total_size(chunks: Sequence[Chunk]) -> int:
    return sum(memoryview(c).nbytes for c in chunks)


class LogSink(Protocol):
    """An open log object: ``write`` appends, ``flush`` makes what was written readable,
    ``close`` flushes and ends it."""

    def write(self, data: bytes) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class Storage(Protocol):
    """Bytes under keys relative to one root (a directory, an S3 prefix)."""

    kind: str  # "local", "s3", ... (the name it is registered under)
    url: str  # where the root is, as a user writes it: "/abs/path", "s3://bucket/prefix"

    def put(self, key: str, data: Sequence[Chunk], *, if_absent: bool = False) -> bool:
        """Store ``data`` (chunks, written in order, never joined) under ``key`` atomically.

        Returns False when ``if_absent`` is set and the key exists (nothing is written)."""
        ...

    def put_many(self, items: Iterable[tuple[str, bytes]], *, if_absent: bool = False) -> None:
        """Store several small objects, each atomically (in parallel or batched where the
        backend can)."""
        ...

    def put_keyed_later(
        self,
        staging: str,
        data: Sequence[Chunk],
        finish: Callable[[], tuple[str, int, bytes] | None],
    ) -> str | None:
        """Store bytes whose key is known only once they are written.

        ``finish()`` is called after ``data`` is written (a backend that cannot rename calls
        it first); it returns ``(key, offset, patch)``: the object's key, and bytes to write
        at ``offset`` over what ``data`` holds there (the blob's digest), or None when the
        object is not wanted after all (stored already). ``staging`` is a key prefix for
        temporary objects, next to where the key will be. Returns the key stored, or None."""
        ...

    def get(self, key: str) -> Chunk:
        """The whole object (a writable buffer: bytearray, or a private memory map)."""
        ...

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end of the object)."""
        ...

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes | None]:
        """Several small objects at once (None for each missing one)."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int | None:
        """The object's size in bytes, None when it does not exist."""
        ...

    def list(self, prefix: str) -> list[tuple[str, int]]:
        """(key, size) of every object whose key starts with ``prefix`` + '/' (recursively),
        sorted by key."""
        ...

    def delete(self, key: str) -> None: ...

    def copy(self, src: str, dst: str) -> bool:
        """Make ``dst`` hold what ``src`` holds (inside the backend: a hard link, a
        server-side copy); False when ``src`` does not exist."""
        ...

    def appender(self, key: str) -> LogSink:
        """A sink that appends to the object under ``key`` (created on the first write)."""
        ...

    def close(self) -> None:
        """Release connections and threads; the object stays usable."""
        ...
