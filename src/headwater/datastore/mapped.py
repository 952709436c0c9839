"""Blobs mapped into memory, and whether a value loaded from one is still exactly that blob.

A step that reads a large array and leaves it as it was would otherwise serialize it again
when it ends, hashing every byte (about 25 ms per 256 MB here) only to find the key it
already had. A value loaded from a memory-mapped blob is instead known to be unchanged when

1. pickling it again gives the blob's pickle stream, byte for byte (same type, shape, dtype,
   strides and small state),
2. each of its out-of-band buffers is the very region of the mapping its blob bytes sit in
   (same address, same length), and
3. no page of the mapping has been written: the mapping is private (copy-on-write), so a
   written page becomes an anonymous copy, which ``/proc/self/pagemap`` reports.

Then serializing it would give the same bytes, hence the same key. Anything else (a
compressed blob, a buffer elsewhere, no pagemap, no numpy to read buffer addresses) answers
"changed", and the value is hashed as before: this is only ever a shortcut.
"""

from __future__ import annotations

import mmap
import os

from headwater.serde.blob import pickle_out_of_band, raw_layout

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

_PAGEMAP = "/proc/self/pagemap"
_PRESENT = 1 << 63
_SWAPPED = 1 << 62
_FILE_PAGE = 1 << 61  # a page-cache page (not an anonymous copy)


class MappedBlobs:
    """The blobs one process has mapped, by key (the runtime tracks those its task loads)."""

    def __init__(self) -> None:
        self._maps: dict[str, list[mmap.mmap]] = {}

    def add(self, key: str, mapping: mmap.mmap) -> None:
        self._maps.setdefault(key, []).append(mapping)

    def unchanged(self, key: str, value: Any) -> bool:
        """Whether ``value`` still serializes to the blob ``key`` it was loaded from."""
        maps = self._maps.get(key)
        if not maps:
            return False
        try:
            import numpy
        except ImportError:
            return False
        try:
            pickled, buffers = pickle_out_of_band(value)
        except Exception:  # noqa: BLE001 - not picklable any more: let saving report it
            return False
        for mapping in maps:
            try:
                if _is_mapping_of(mapping, pickled, buffers, numpy):
                    return True
            except (OSError, ValueError, BufferError):
                continue
        return False


def _address(buffer: Any, numpy: Any) -> int:
    return int(numpy.frombuffer(buffer, dtype=numpy.uint8).__array_interface__["data"][0])


def _is_mapping_of(mapping: mmap.mmap, pickled: bytes, buffers: list[Any], numpy: Any) -> bool:
    layout = raw_layout(mapping)
    if layout is None or len(layout.buffers) != len(buffers) or not buffers:
        return False
    start, length = layout.pickle
    if mapping[start : start + length] != pickled:
        return False
    base = _address(mapping, numpy)
    for buf, (offset, n) in zip(buffers, layout.buffers, strict=True):
        if buf.nbytes != n or _address(buf, numpy) != base + offset:
            return False
    return _untouched(base, len(mapping), numpy)


def _untouched(address: int, length: int, numpy: Any) -> bool:
    """Whether no page of ``[address, address + length)`` was written (or swapped out, which
    only happens to written copies of a file mapping)."""
    page = mmap.PAGESIZE
    first = address // page
    count = -(-(address + length) // page) - first
    fd = os.open(_PAGEMAP, os.O_RDONLY)
    try:
        want = count * 8
        data = os.pread(fd, want, first * 8)
        while len(data) < want:
            more = os.pread(fd, want - len(data), first * 8 + len(data))
            if not more:
                return False
            data += more
    finally:
        os.close(fd)
    entries = numpy.frombuffer(data, dtype="<u8")
    swapped = (entries & numpy.uint64(_SWAPPED)) != 0
    copied = ((entries & numpy.uint64(_PRESENT)) != 0) & ((entries & numpy.uint64(_FILE_PAGE)) == 0)
    return not bool(swapped.any() or copied.any())
