"""Files that appear whole or not at all: write to a temp file beside the target, then rename.

Temp names are unique per process and call (pid plus a counter), so writers in several
processes, forked children included, never share one. ``os.replace`` over an existing file is
atomic on POSIX and Windows; readers see the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from mmap import mmap
    from typing import Any

    Chunk = bytes | bytearray | memoryview | mmap  # as storage.Chunk
else:
    Chunk = bytes | bytearray | memoryview

_counter = itertools.count()
_IOV_MAX = 1024  # IOV_MAX on Linux and macOS; one writev takes at most this many buffers
# Buffers are written in pieces of at most 1 MB. A write() of 2 MB or more lets Linux (ext4
# with large folios, 6.16+) fill the page cache with 2 MB folios, which need whole free 2 MB
# blocks; on a VM whose balloon reports free memory to the host (Firecracker here) exactly
# those blocks were handed back, and touching them again costs 4-6x: 256 MB took 320-560 ms
# written in 2 MB pieces and 55-120 ms in 1 MB pieces (benchmarks/README.md).
_PIECE = 1 << 20
_PREALLOCATE_MIN = 64 << 20  # files this big get their blocks reserved up front
_PREFILL_STEP = 8 << 20  # ... and their page cache filled ahead of the writes, this much at a time
_HAS_WRITEV = hasattr(os, "writev")


def temp_name(target: str) -> str:
    """A temp path in the target's directory, unique to this process and call."""
    head, tail = os.path.split(target)
    return os.path.join(head, f".{tail}.{os.getpid()}.{next(_counter)}.tmp")


def write_chunks(fd: int, chunks: Sequence[Chunk]) -> None:
    """Write every chunk in order, retrying short writes; big chunks are never joined."""
    pending: list[Chunk] = []
    for c in chunks:
        if isinstance(c, memoryview) and (c.ndim != 1 or c.itemsize != 1):
            c = c.cast("B")
        if len(c) > _PIECE:
            view = memoryview(c)
            pending.extend(view[i : i + _PIECE] for i in range(0, len(view), _PIECE))
        elif len(c):
            pending.append(c)
    total = sum(len(c) for c in pending)
    prefill = None
    if total >= _PREALLOCATE_MIN and hasattr(os, "posix_fallocate"):
        with contextlib.suppress(OSError):  # an optimisation only; ENOSPC surfaces on write
            os.posix_fallocate(fd, 0, total)
            prefill = _start_prefill(fd, total)
    try:
        _write_pending(fd, pending)
    finally:
        if prefill is not None:
            prefill.join()


def _start_prefill(fd: int, total: int) -> Any:
    """Have a second thread put the (reserved, still unwritten) file's pages in the page cache
    ahead of the writes, so getting fresh memory for them, the slow part of writing a big file
    on this kind of VM, runs on another core while this one copies the data in.

    POSIX_FADV_WILLNEED over reserved blocks reads nothing from disk: the kernel adds zeroed
    pages, and the writes then land in pages that exist already. 256 MB here: 110-145 ms with
    the prefill, 290-560 ms without when memory is cold (77-115 ms either way when warm).
    """
    if not hasattr(os, "posix_fadvise"):  # pragma: no cover - macOS, Windows
        return None
    import threading

    def prefill() -> None:
        with contextlib.suppress(OSError):
            for offset in range(0, total, _PREFILL_STEP):
                os.posix_fadvise(fd, offset, _PREFILL_STEP, os.POSIX_FADV_WILLNEED)

    thread = threading.Thread(target=prefill, name="headwater-prefill", daemon=True)
    thread.start()
    return thread


def _write_pending(fd: int, pending: list[Chunk]) -> None:
    i = 0
    while i < len(pending):
        batch = pending[i : i + _IOV_MAX]
        # One writev of at most one piece's worth of large data at a time.
        size = 0
        for j, c in enumerate(batch):
            size += len(c)
            if size >= _PIECE:
                batch = batch[: j + 1]
                break
        n = os.writev(fd, batch) if _HAS_WRITEV else os.write(fd, pending[i])
        while n:
            size = len(pending[i])
            if n >= size:
                n -= size
                i += 1
            else:
                pending[i] = memoryview(pending[i])[n:]
                n = 0


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not possible on some platforms (Windows); best effort
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(target: str, chunks: Sequence[Chunk], durable: bool = False) -> None:
    """Make ``target`` hold exactly ``chunks``, atomically.

    Raises FileNotFoundError when the target's directory does not exist (the caller creates
    it and retries, which keeps the common case to open, write, close, rename). With
    ``durable``, the data and the directory entry are fsynced before returning.
    """
    _write_and_rename(temp_name(target), chunks, lambda fd: target, durable)


def write_then_name(
    tmp_dir: str,
    chunks: Sequence[Chunk],
    name: Callable[[int], str | None],
    durable: bool = False,
) -> str | None:
    """Write ``chunks`` to a temp file in ``tmp_dir``, then let ``name(fd)`` say where the file
    goes: ``name`` may patch it (``os.pwrite``) before it is renamed to the returned path (on
    the same file system; the path's directory is created if missing). When ``name`` returns
    None the file is dropped. Returns the path, or None.

    For content whose name is known only once written (a hash computed meanwhile). Raises
    FileNotFoundError when ``tmp_dir`` does not exist, like :func:`write_atomic`.
    """
    tmp = os.path.join(tmp_dir, f".unnamed.{os.getpid()}.{next(_counter)}.tmp")
    return _write_and_rename(tmp, chunks, name, durable)


def _write_and_rename(
    tmp: str,
    chunks: Sequence[Chunk],
    name: Callable[[int], str | None],
    durable: bool,
) -> str | None:
    """Write ``chunks`` to the new file ``tmp`` and rename it to ``name(fd)``'s answer (drop it
    on None); on any error the temp file is removed."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    target = None
    try:
        try:
            write_chunks(fd, chunks)
            target = name(fd)
            if target is not None and durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if target is None:
            os.unlink(tmp)
            return None
        try:
            os.replace(tmp, target)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(os.path.dirname(target) or ".")
    return target
