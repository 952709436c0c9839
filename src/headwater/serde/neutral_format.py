"""The neutral codec's byte layout: R and Python read and write it without per-element loops.

A neutral value is a tree of typed nodes described by a JSON header, with the vectors' data in
binary buffers after it (R reads them with ``readBin``, Python with ``numpy.frombuffer``)::

    offset  size   field
    0       4      magic b"HWNC"
    4       1      format version (1)
    5       3      reserved (0)
    8       4      header length H (little-endian uint32)
    12      H      header: one node, UTF-8 JSON
    ...            zero padding to a multiple of 8
    data           the buffers, each at an offset (from the data start) that is a multiple of 8

Every buffer is little-endian. A node is a JSON object whose ``t`` names its type:

- ``null``: |
- ``lgl``: int32: 0, 1, NA = -2^31 |
- ``int``: int32: NA = -2^31 |
- ``dbl``: float64: NA is R's NA (a NaN whose low word is 1954), NaN is NaN |
- ``chr``: ``n`` NUL-terminated UTF-8 strings (NA written as ""); ``na``: [offset, n] bytes, 1 =
  NA (absent: no NA). Or, when at most half the strings are distinct, no ``b`` but ``codes``
  (int32, -1 = NA) indexing ``dict``, a ``chr`` node of the distinct strings.
- ``raw``: bytes
- ``fct``: int32 codes from 1, NA = -2^31; ``levels`` (a ``chr`` node), ``ordered``
- ``date``: float64 days since 1970-01-01 |
- ``time``: float64 seconds since 1970-01-01 UTC; ``tz``: the zone; "" or absent = local time
- ``list``: | ``items``: nodes; ``names``: a ``chr`` node (absent: unnamed)
- ``df``: | ``items`` (columns), ``names``, ``nrow``; ``rownames``: an ``int`` or ``chr`` node
  (absent: automatic); ``class`` when not just "data.frame"
- ``rds``: R's ``serialize()`` bytes of an object no other type holds; ``class``: its R class

Vector nodes have ``n`` (their length) and may have ``names`` (a ``chr`` node), ``dim`` (a list
of ints: a matrix or array, column-major) and ``dimnames`` (a list of ``chr`` nodes or null).

This module reads and writes the layout (nodes holding numpy arrays); the mapping of nodes to
Python values is in :mod:`headwater.serde.neutral`.
"""

from __future__ import annotations

import json
import struct

from headwater.exceptions import CorruptBlob, UnsupportedFormat

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

MAGIC = b"HWNC"
VERSION = 1
NA_INTEGER = -(2**31)
NA_REAL_BITS = 0x7FF00000000007A2  # R's NA_real_
_PREFIX = struct.Struct("<4sB3xI")
_ZEROS = bytes(8)

Chunk = bytes | bytearray | memoryview


class NotNeutral(TypeError):
    """A Python value with no R counterpart."""


def _align8(n: int) -> int:
    return -(-n // 8) * 8


class Writer:
    """Collects buffers while a value's nodes are built; ``chunks()`` gives the bytes."""

    def __init__(self) -> None:
        self.buffers: list[Chunk] = []
        self.size = 0  # of the data area so far

    def add(self, data: Chunk) -> list[int]:
        """Place a buffer; returns its [offset, length] for the node."""
        n = memoryview(data).nbytes
        offset = self.size
        self.buffers.append(data)
        self.size += n
        pad = _align8(self.size) - self.size
        if pad:
            self.buffers.append(_ZEROS[:pad])
            self.size += pad
        return [offset, n]

    def chunks(self, root: dict[str, Any]) -> list[Chunk]:
        header = json.dumps(root, separators=(",", ":"), ensure_ascii=False).encode()
        head = _PREFIX.pack(MAGIC, VERSION, len(header)) + header
        head += _ZEROS[: _align8(len(head)) - len(head)]
        return [head, *self.buffers]


def _corrupt(why: str) -> CorruptBlob:
    return CorruptBlob(f"neutral value is damaged ({why}); rerun the task that produced it")


class Reader:
    """The header of a neutral value and views of its buffers."""

    def __init__(self, data: Chunk) -> None:
        mv = memoryview(data).cast("B")
        if len(mv) < _PREFIX.size or bytes(mv[:4]) != MAGIC:
            raise _corrupt("bad magic bytes")
        _, version, hlen = _PREFIX.unpack_from(mv)
        if version > VERSION:
            raise UnsupportedFormat(
                f"neutral value format version {version} is newer than this headwater reads "
                f"({VERSION}): upgrade headwater to read it"
            )
        end = _PREFIX.size + hlen
        if len(mv) < end:
            raise _corrupt("truncated header")
        try:
            self.root: dict[str, Any] = json.loads(bytes(mv[_PREFIX.size : end]))
        except ValueError as e:
            raise _corrupt(f"header is not JSON: {e}") from None
        self.mv = mv
        self.start = _align8(end)

    def buffer(self, where: list[int]) -> memoryview:
        offset, n = int(where[0]), int(where[1])  # R's JSON may write 1e+10 for a number
        lo = self.start + offset
        if lo + n > len(self.mv):
            raise _corrupt("a buffer runs past the end")
        return self.mv[lo : lo + n]

    def array(self, node: dict[str, Any], dtype: str) -> Any:
        import numpy as np

        if "b" not in node:
            return np.empty(0, dtype=dtype)
        return np.frombuffer(self.buffer(node["b"]), dtype=dtype)

    def strings(self, node: dict[str, Any]) -> list[str]:
        """The strings of a ``chr`` node, NA as "" (see :meth:`na_mask`)."""
        n = node["n"]
        if n == 0:
            return []
        if "codes" in node:
            import numpy as np

            table = np.array([*self.strings(node["dict"]), ""], dtype=object)
            return table[self.codes(node)].tolist()
        parts = str(self.buffer(node["b"]), "utf-8").split("\0")
        if len(parts) != n + 1:
            raise _corrupt(f"a character vector holds {len(parts) - 1} strings, not {n}")
        parts.pop()
        return parts

    def codes(self, node: dict[str, Any]) -> Any:
        """The int32 codes of a dictionary ``chr`` node (-1: NA)."""
        import numpy as np

        return np.frombuffer(self.buffer(node["codes"]), dtype="<i4")

    def string_array(self, node: dict[str, Any], na: Any = None) -> Any:
        """The strings of a ``chr`` node as a numpy object array, NA as ``na``."""
        import numpy as np

        if "codes" in node:
            table = np.array([*self.strings(node["dict"]), na], dtype=object)
            return table[self.codes(node)]
        out = np.array(self.strings(node), dtype=object)
        mask = self.na_mask(node)
        if mask is not None:
            out[mask] = na
        return out

    def na_mask(self, node: dict[str, Any]) -> Any:
        """A bool array of a ``chr`` node's NA, or None when it has none."""
        import numpy as np

        if "codes" in node:
            mask = self.codes(node) < 0
            return mask if mask.any() else None

        if "na" not in node:
            return None
        return np.frombuffer(self.buffer(node["na"]), dtype=np.uint8).astype(bool)
