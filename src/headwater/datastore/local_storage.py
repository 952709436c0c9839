"""Storage in a local (or mounted) directory: a key is a file path under the root.

Objects are written to a temp file in the target's directory and renamed into place (see
:mod:`headwater.datastore.atomic_file`), so a reader never sees half of one and writers in
several processes may race on one key safely. Directories are made on the first write that
needs them, not checked up front: a typical put is open, writev, close, rename. Objects of
``MMAP_MIN`` bytes and more are read as private memory maps (pages straight from the page
cache; arrays built on them are writable without changing the file).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterable, Sequence

from headwater.datastore.atomic_file import write_atomic, write_then_name
from headwater.datastore.storage import Chunk, KeyNotFound, check_key
from headwater.exceptions import DatastoreError

MMAP_MIN = 4 << 20  # objects at least this big are memory-mapped, not read
_O_BINARY = getattr(os, "O_BINARY", 0)
_SMALL_READ = 64 << 10  # first read of a small object

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from io import FileIO
    from typing import Any


class LocalStorage:
    """Objects as files under ``root`` (made on the first write).

    ``durable=True`` fsyncs every object (and its directory) before ``put`` returns, so a
    power loss cannot lose a finished task's results; off by default, since a crashed process
    (the common failure) loses nothing either way.
    """

    kind = "local"

    def __init__(self, root: str | os.PathLike[str], durable: bool = False) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.durable = durable

    @classmethod
    def from_settings(cls, root: str, settings: Any) -> LocalStorage:
        return cls(root)

    @property
    def url(self) -> str:
        return self.root

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    def __reduce__(self) -> tuple[object, tuple[str, bool]]:
        return (LocalStorage, (self.root, self.durable))

    def path(self, key: str) -> str:
        """The file of ``key`` (checked: it cannot leave the root)."""
        return f"{self.root}{os.sep}{check_key(key).replace('/', os.sep)}"

    def _error(self, doing: str, target: str, e: OSError) -> DatastoreError:
        hint = (
            f"check that the datastore root {self.root} is writable and has free space"
            if doing == "write"
            else "check permissions and the disk"
        )
        return DatastoreError(f"could not {doing} {target} ({e.strerror or e}): {hint}")

    # --- writing --------------------------------------------------------------------------------

    def put(self, key: str, data: Sequence[Chunk], *, if_absent: bool = False) -> bool:
        target = self.path(key)
        if if_absent and os.path.exists(target):
            return False
        try:
            try:
                write_atomic(target, data, self.durable)
            except FileNotFoundError:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                write_atomic(target, data, self.durable)
        except OSError as e:
            raise self._error("write", target, e) from e
        return True

    def put_many(self, items: Iterable[tuple[str, bytes]], *, if_absent: bool = False) -> None:
        for key, data in items:
            self.put(key, [data], if_absent=if_absent)

    def put_keyed_later(
        self,
        staging: str,
        data: Sequence[Chunk],
        finish: Callable[[], tuple[str, int, bytes] | None],
    ) -> str | None:
        staging_dir = self.path(staging)
        stored: list[str] = []

        def name(fd: int) -> str | None:
            answer = finish()
            if answer is None:
                return None
            key, offset, patch = answer
            target = self.path(key)
            if os.path.exists(target):
                return None  # stored meanwhile: identical content, keep the one there
            if patch:
                os.pwrite(fd, patch, offset)
            stored.append(key)
            return target

        try:
            try:
                write_then_name(staging_dir, data, name, self.durable)
            except FileNotFoundError:
                os.makedirs(staging_dir, exist_ok=True)
                write_then_name(staging_dir, data, name, self.durable)
        except OSError as e:
            raise self._error("write", staging_dir, e) from e
        return stored[0] if stored else None

    def appender(self, key: str) -> _FileSink:
        return _FileSink(self.path(key))

    def delete(self, key: str) -> None:
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            pass
        except OSError as e:
            raise self._error("delete", self.path(key), e) from e

    def copy(self, src: str, dst: str) -> bool:
        source, target = self.path(src), self.path(dst)
        for _ in range(2):
            try:
                os.link(source, target)
                return True
            except FileExistsError:
                os.unlink(target)
            except (FileNotFoundError, NotADirectoryError):
                if not os.path.exists(source):
                    return False
                os.makedirs(os.path.dirname(target), exist_ok=True)
            except OSError:  # no hard links here (another file system, Windows): copy
                try:
                    data = self.get(src)
                except KeyNotFound:
                    return False
                return self.put(dst, [data])
        return self.put(dst, [self.get(src)])

    # --- reading --------------------------------------------------------------------------------

    def _open(self, key: str) -> tuple[int, str]:
        target = self.path(key)
        try:
            return os.open(target, os.O_RDONLY | _O_BINARY), target
        except (FileNotFoundError, NotADirectoryError):
            raise KeyNotFound(f"nothing is stored at {target}", key) from None
        except OSError as e:
            raise self._error("read", target, e) from e

    def get(self, key: str) -> Chunk:
        fd, target = self._open(key)
        try:
            size = os.fstat(fd).st_size
            if size >= MMAP_MIN:
                return mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
            if size == 0:
                return _read_small(fd)  # a file of a kernel fs may report 0 and hold more
            return _read_all(fd, size)
        except OSError as e:
            raise self._error("read", target, e) from e
        finally:
            os.close(fd)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        fd, target = self._open(key)
        try:
            return os.pread(fd, max(0, length), max(0, offset))
        except OSError as e:
            raise self._error("read", target, e) from e
        finally:
            os.close(fd)

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for key in keys:
            try:
                out[key] = bytes(self.get(key))
            except KeyNotFound:
                out[key] = None
        return out

    def exists(self, key: str) -> bool:
        return os.path.exists(self.path(key))

    def size(self, key: str) -> int | None:
        try:
            return os.stat(self.path(key)).st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def list(self, prefix: str) -> list[tuple[str, int]]:
        base = self.path(prefix)
        out: list[tuple[str, int]] = []
        for folder, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            rel = os.path.relpath(folder, self.root).replace(os.sep, "/")
            for name in files:
                if name.startswith("."):
                    continue  # temp files of writes in progress
                try:
                    size = os.stat(os.path.join(folder, name)).st_size
                except FileNotFoundError:
                    continue
                out.append((f"{rel}/{name}", size))
        out.sort()
        return out

    def close(self) -> None:
        pass


class _FileSink:
    """Appends to a file, made (with its directory) on the first write; readers see each
    write at once."""

    __slots__ = ("path", "_file")

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: FileIO | None = None

    def write(self, data: bytes) -> None:
        f = self._file
        if f is None:
            try:
                f = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed by close()
            except FileNotFoundError:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                f = open(self.path, "ab", buffering=0)  # noqa: SIM115
            self._file = f
        f.write(data)

    def flush(self) -> None:
        pass  # unbuffered

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _read_small(fd: int) -> bytearray:
    buf = bytearray()
    while chunk := os.read(fd, _SMALL_READ):
        buf += chunk
    return buf


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
            break  # shorter than fstat said: the reader reports the truncation
        pos += n
    view.release()
    return buf if pos == size else buf[:pos]
