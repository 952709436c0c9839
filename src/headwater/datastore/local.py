"""The datastore on a local (or mounted) filesystem.

Layout under ``root`` (see DESIGN.md, "Data on disk")::

    <root>/<Flow>/blobs/<key[:2]>/<key>                  one blob per distinct value
    <root>/<Flow>/<run>/<step>/<task>/<attempt>/index.json
    <root>/<Flow>/<run>/<step>/<task>/<attempt>/stdout, stderr

Blobs are content-addressed (see :mod:`headwater.serde.blob`): a value saved again, by any
task of any run, costs one ``stat`` and no write. Blobs and indexes are written to a temp file
in the same directory and renamed into place, so a reader never sees half of one, and writers
in several processes may race on the same key safely (identical content replaces identical
content). Directories are created on the first write that needs them, not checked up front,
so a typical artifact save is stat, open, writev, close, rename.
"""

from __future__ import annotations

import json
import mmap
import os
import time
from collections.abc import Mapping

from headwater.core.ids import AttemptPath
from headwater.datastore.atomic_file import Chunk, write_atomic, write_then_name
from headwater.datastore.records import INDEX_VERSION, ArtifactRef, TaskIndex
from headwater.exceptions import (
    CorruptBlob,
    DatastoreError,
    IndexNotFound,
    UnsupportedFormat,
)
from headwater.serde.blob import DIGEST_OFFSET, Unkeyed, deserialize, serialize_unkeyed

INDEX_FILE = "index.json"
_INDEX_READ = 64 << 10  # first read of an index file
MMAP_MIN = 4 << 20  # blobs at least this big are memory-mapped, not read
LOG_STREAMS = ("stdout", "stderr")
_HEX = "0123456789abcdef"
_O_BINARY = getattr(os, "O_BINARY", 0)

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Any


def _path(text: str) -> Path:
    from pathlib import Path  # here: readers of values never need pathlib

    return Path(text)


def _check_part(part: str, what: str) -> str:
    if not part or part in (".", "..") or "/" in part or "\\" in part or "\0" in part:
        raise DatastoreError(
            f"invalid {what} {part!r} for a datastore path: it must be non-empty, not '.' or "
            "'..', and contain no '/' or '\\'"
        )
    return part


class LocalDatastore:
    """Blobs and artifact indexes under one root directory.

    ``durable=True`` fsyncs every blob and index (and its directory) before the call returns,
    so a power loss cannot lose a finished task's results; off by default, since a crashed
    process (the common failure) loses nothing either way.
    """

    def __init__(self, root: str | os.PathLike[str], durable: bool = False) -> None:
        self._root = os.path.abspath(os.fspath(root))
        self.durable = durable
        self._flows: dict[str, str] = {}  # flow name -> its directory, name checked
        self._known: set[str] = set()  # blob paths known to exist
        self._run_dirs: dict[tuple[str, str], str] = {}  # (flow, run) -> its directory
        self._mapped: Any = None  # MappedBlobs of values loaded with track=True
        # Seconds this object spent in load_value and save_values (a task reports them).
        self.load_s = 0.0
        self.save_s = 0.0

    def __repr__(self) -> str:
        return f"LocalDatastore({self._root!r})"

    # --- paths ------------------------------------------------------------------------------

    def _flow_dir(self, flow: str) -> str:
        d = self._flows.get(flow)
        if d is None:
            d = os.path.join(self._root, _check_part(flow, "flow name"))
            self._flows[flow] = d
        return d

    def _blob(self, flow: str, key: str) -> str:
        if len(key) < 3 or key.strip(_HEX):
            raise DatastoreError(
                f"invalid artifact key {key!r}: expected a lowercase hex digest; the artifact "
                "index that holds it is damaged"
            )
        return f"{self._flow_dir(flow)}{os.sep}blobs{os.sep}{key[:2]}{os.sep}{key}"

    def _attempt(self, path: AttemptPath) -> str:
        run_dir = self._run_dirs.get((path.flow, path.run_id))
        if run_dir is None:
            run_dir = f"{self._flow_dir(path.flow)}{os.sep}{_check_part(path.run_id, 'run id')}"
            self._run_dirs[(path.flow, path.run_id)] = run_dir
        step = _check_part(path.step, "step name")
        task = _check_part(path.task_id, "task id")
        return f"{run_dir}{os.sep}{step}{os.sep}{task}{os.sep}{int(path.attempt)}"

    @property
    def root(self) -> Path:
        return _path(self._root)

    def blob_path(self, flow: str, key: str) -> Path:
        return _path(self._blob(flow, key))

    def attempt_dir(self, path: AttemptPath) -> Path:
        return _path(self._attempt(path))

    def log_path(self, path: AttemptPath, stream: str) -> Path:
        """Where an attempt's ``stdout`` or ``stderr`` lives; does not create anything."""
        return _path(self._log(path, stream))

    def _log(self, path: AttemptPath, stream: str) -> str:
        if stream not in LOG_STREAMS:
            raise DatastoreError(f"unknown log stream {stream!r}: expected 'stdout' or 'stderr'")
        return os.path.join(self._attempt(path), stream)

    # --- writing ----------------------------------------------------------------------------

    def _write(self, target: str, chunks: tuple[Chunk, ...] | list[Chunk], what: str) -> None:
        try:
            try:
                write_atomic(target, chunks, self.durable)
            except FileNotFoundError:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                write_atomic(target, chunks, self.durable)
        except OSError as e:
            raise DatastoreError(
                f"could not write {what} to {target} ({e.strerror or e}): check that the "
                f"datastore root {self._root} is writable and has free space"
            ) from e

    def save_values(self, flow: str, values: Mapping[str, Any]) -> dict[str, ArtifactRef]:
        """Serialize and store each value, writing a blob only for content not stored yet.

        Returns one ref per name. Raises :class:`UnpicklableArtifact` naming the artifact when a
        value cannot be pickled.
        """
        t0 = time.perf_counter()
        try:
            return self._save_values(flow, values)
        finally:
            self.save_s += time.perf_counter() - t0

    def _save_values(self, flow: str, values: Mapping[str, Any]) -> dict[str, ArtifactRef]:
        refs: dict[str, ArtifactRef] = {}
        known = self._known
        for name, value in values.items():
            s = serialize_unkeyed(value, name=name)
            if isinstance(s, Unkeyed):
                key = self._save_unkeyed(flow, name, s)
            else:
                key = s.key
                target = self._blob(flow, key)
                if target not in known:
                    if not os.path.exists(target):
                        self._write(target, s.chunks, f"artifact {name!r}")
                    known.add(target)
            refs[name] = ArtifactRef(key=key, size=s.size, type=s.type)
        return refs

    def _save_unkeyed(self, flow: str, name: str, blob: Unkeyed) -> str:
        """Write a large blob while another thread hashes it (the two take about as long, and
        both run outside the GIL); name it by the hash once both are done, or drop the copy
        when that blob is stored already. Returns the key."""
        import threading

        digest: list[bytes] = []
        hasher = threading.Thread(target=lambda: digest.append(blob.digest()), daemon=True)
        hasher.start()

        def name_it(fd: int) -> str | None:
            hasher.join()
            if not digest:
                raise DatastoreError(f"could not hash artifact {name!r}")
            target = self._blob(flow, digest[0].hex())
            if target in self._known or os.path.exists(target):
                self._known.add(target)
                return None
            os.pwrite(fd, digest[0], DIGEST_OFFSET)
            return target

        blobs_dir = os.path.join(self._flow_dir(flow), "blobs")
        try:
            try:
                target = write_then_name(blobs_dir, blob.chunks, name_it, self.durable)
            except FileNotFoundError:
                os.makedirs(blobs_dir, exist_ok=True)
                target = write_then_name(blobs_dir, blob.chunks, name_it, self.durable)
        except OSError as e:
            raise DatastoreError(
                f"could not write artifact {name!r} to {blobs_dir} ({e.strerror or e}): check "
                f"that the datastore root {self._root} is writable and has free space"
            ) from e
        finally:
            hasher.join()
        if target is not None:
            self._known.add(target)
        return digest[0].hex()

    def write_index(self, path: AttemptPath, index: TaskIndex) -> None:
        """Write an attempt's artifact index atomically, creating its directory if needed."""
        data = json.dumps(index.to_json(), separators=(",", ":")).encode()
        target = os.path.join(self._attempt(path), INDEX_FILE)
        self._write(target, [data], f"the artifact index of {path.pathspec}")

    def copy_index(self, src: AttemptPath, dst: AttemptPath) -> None:
        """Give ``dst`` the same index as ``src`` (keys only: no blob is copied)."""
        data = self._read_index_bytes(src, os.path.join(self._attempt(src), INDEX_FILE))
        target = os.path.join(self._attempt(dst), INDEX_FILE)
        self._write(target, [data], f"the artifact index of {dst.pathspec}")

    # --- reading ----------------------------------------------------------------------------

    def has_blob(self, flow: str, key: str) -> bool:
        target = self._blob(flow, key)
        if target in self._known:
            return True
        if os.path.exists(target):
            self._known.add(target)
            return True
        return False

    def load_value(self, flow: str, key: str, track: bool = False) -> Any:
        """Read and rebuild the value stored under ``key``.

        With ``track``, a blob large enough to be memory-mapped is remembered so that
        :meth:`unchanged_since_load` can later tell, without hashing it, that the value is
        still exactly that blob (the runtime tracks what a step loads; readers need not).
        """
        t0 = time.perf_counter()
        try:
            return self._load_value(flow, key, track)
        finally:
            self.load_s += time.perf_counter() - t0

    def _load_value(self, flow: str, key: str, track: bool) -> Any:
        target = self._blob(flow, key)
        try:
            fd = os.open(target, os.O_RDONLY | _O_BINARY)
        except FileNotFoundError:
            raise DatastoreError(
                f"artifact blob {key} is missing from {target}: the datastore is incomplete "
                "(deleted, or copied without its blobs); rerun the task that produced it"
            ) from None
        except OSError as e:
            raise DatastoreError(
                f"could not read artifact blob {target} ({e.strerror or e}): check permissions"
            ) from e
        try:
            size = os.fstat(fd).st_size
            if size >= MMAP_MIN:
                # Map large blobs copy-on-write: pages come straight from the page cache, and
                # arrays built on them are writable without changing the file.
                buf = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
            else:
                buf = _read_all(fd, size)
        except OSError as e:
            raise DatastoreError(
                f"could not read artifact blob {target} ({e.strerror or e}): check the disk"
            ) from e
        finally:
            os.close(fd)
        try:
            value = deserialize(buf, key=key)
        except (CorruptBlob, UnsupportedFormat) as e:
            raise type(e)(f"artifact blob {target}: {e}") from None
        if track and isinstance(buf, mmap.mmap):
            if self._mapped is None:
                from headwater.datastore.mapped import MappedBlobs

                self._mapped = MappedBlobs()
            self._mapped.add(key, buf)
        return value

    def unchanged_since_load(self, key: str, value: Any) -> bool:
        """Whether ``value``, loaded with ``track`` from the blob ``key``, would serialize to
        that same blob (see :mod:`headwater.datastore.mapped`); False when unsure."""
        return self._mapped is not None and self._mapped.unchanged(key, value)

    def has_index(self, path: AttemptPath) -> bool:
        return os.path.exists(os.path.join(self._attempt(path), INDEX_FILE))

    def _read_index_bytes(self, path: AttemptPath, target: str) -> bytes:
        try:
            fd = os.open(target, os.O_RDONLY | _O_BINARY)
        except FileNotFoundError:
            raise IndexNotFound(
                f"no artifact index for {path.pathspec} attempt {path.attempt} at {target}: "
                "the attempt has not finished successfully, or never ran"
            ) from None
        except OSError as e:
            raise DatastoreError(
                f"could not read artifact index {target} ({e.strerror or e}): check permissions"
            ) from e
        try:
            # One read for a typical index (a few hundred bytes); loop for big ones.
            data = os.read(fd, _INDEX_READ)
            if len(data) == _INDEX_READ:
                parts = [data]
                while chunk := os.read(fd, 1 << 20):
                    parts.append(chunk)
                data = b"".join(parts)
            return data
        except OSError as e:
            raise DatastoreError(
                f"could not read artifact index {target} ({e.strerror or e}): check the disk"
            ) from e
        finally:
            os.close(fd)

    def read_index(self, path: AttemptPath) -> TaskIndex:
        """The artifact index of one attempt.

        Raises :class:`IndexNotFound` when there is none, :class:`UnsupportedFormat` when a newer
        headwater wrote it, and :class:`DatastoreError` when it cannot be parsed.
        """
        target = os.path.join(self._attempt(path), INDEX_FILE)
        return _parse_index(self._read_index_bytes(path, target), target)

    def read_log(self, path: AttemptPath, stream: str) -> bytes:
        """An attempt's captured ``stdout`` or ``stderr``; ``b""`` when there is none."""
        target = self._log(path, stream)
        try:
            with open(target, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""
        except OSError as e:
            raise DatastoreError(
                f"could not read log {target} ({e.strerror or e}): check permissions"
            ) from e


def _read_all(fd: int, size: int) -> bytearray:
    """The whole file as a writable bytearray, read straight into its final buffer."""
    buf = bytearray(size)
    view = memoryview(buf)
    pos = 0
    while pos < size:
        if hasattr(os, "readv"):
            n = os.readv(fd, [view[pos:]])
        else:  # pragma: no cover - Windows
            chunk = os.read(fd, size - pos)
            n = len(chunk)
            view[pos : pos + n] = chunk
        if n == 0:
            break  # shorter than fstat said: deserialize reports the truncation
        pos += n
    view.release()
    return buf if pos == size else buf[:pos]


def _parse_index(data: bytes, target: str) -> TaskIndex:
    def bad(why: str) -> DatastoreError:
        return DatastoreError(
            f"artifact index {target} is damaged ({why}): delete that attempt's directory and "
            "rerun the task"
        )

    try:
        d = json.loads(data)
    except ValueError as e:
        raise bad(f"not valid JSON: {e}") from None
    if not isinstance(d, dict):
        raise bad(f"expected a JSON object, got {type(d).__name__}")
    version = d.get("version", INDEX_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad(f"version is {version!r}, not an integer")
    if version > INDEX_VERSION:
        raise UnsupportedFormat(
            f"artifact index {target} has format version {version}, newer than this headwater "
            f"reads ({INDEX_VERSION}): upgrade headwater to read it"
        )
    if not isinstance(d.get("artifacts", {}), dict):
        raise bad("'artifacts' is not an object")
    try:
        return TaskIndex.from_json(d)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise bad(f"{type(e).__name__}: {e}") from None
