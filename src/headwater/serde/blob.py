"""A value as one self-describing, content-addressed blob, and back.

Values are pickled with protocol 5. Buffers of at least ``OOB_MIN`` bytes (numpy, pandas and
arrow data) are taken out of band: the blob's chunks point at the value's own memory, so
serializing a large array copies nothing, and deserializing from a bytearray rebuilds it as a
view into that bytearray.

Blob format, version 1 (all integers little-endian)::

    offset  size      field
    0       4         magic  b"\\x93HWB"
    4       1         format version (1)
    5       1         flags: bit 0 = body is zstd-compressed; other bits must be 0
    6       2         reserved (0)
    8       4         nbuf: number of out-of-band buffers
    12      8         pickle_len: length of the pickle stream
    20      8         stored_len: length of the body as stored (the zstd frame if compressed)
    28      16        digest: xxh3-128 of the content (see below); its hex form is the key
    44      8 * nbuf  length of each out-of-band buffer
    ...               zero padding up to a multiple of 64 when nbuf > 0
    body_start        body (stored_len bytes), then end of file

A blob whose out-of-band buffers hold at least ``RAW_OOB_MIN`` bytes is never compressed, so
array data is written and read at disk speed (and can be memory-mapped on load).

Format version 2 is the same layout for a value another codec encoded (see
:mod:`headwater.serde.codecs`): the reserved field holds the codec's number, the body is that
codec's payload in place of the pickle stream (``nbuf`` 0), and the digest covers the codec
number too (``xxh3_128(pack("<QIH", payload_len, 0, codec) + payload)``), so the same bytes under
two codecs are two blobs. Pickled values keep version 1, so their blobs and keys are unchanged.

The uncompressed body is the pickle stream, then each buffer starting at the next offset
(relative to the body start) that is a multiple of ``ALIGN``, zero padding in between. When
flag bit 0 is set the stored body is that byte string as one zstd frame. The digest is
``xxh3_128(pack("<QI", pickle_len, nbuf) + buffer lengths + pickle + buffers)``: padding,
compression and the header's other fields do not enter it, so the same value always gets the
same key whichever way it was stored.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Sequence

from headwater.exceptions import CorruptBlob, DatastoreError, UnpicklableArtifact, UnsupportedFormat
from headwater.record import Record
from headwater.serde.compression import compress_if_pays, decompress

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from mmap import mmap
    from typing import Any

    Stored = bytes | bytearray | memoryview | mmap  # a blob as read (a datastore may map it)

MAGIC = b"\x93HWB"
FORMAT_VERSION = 2  # the newest this module reads; pickled values are still written as 1
PICKLE_VERSION = 1
ENCODED_VERSION = 2
FLAG_COMPRESSED = 0x01
KNOWN_FLAGS = FLAG_COMPRESSED
ALIGN = 64
OOB_MIN = 1024  # smaller buffers stay inside the pickle stream
RAW_OOB_MIN = 1 << 20  # a blob with this much out-of-band data is never compressed

_HEAD = struct.Struct("<4sBBHIQQ16s")
_CONTENT_HEAD = struct.Struct("<QI")
_ENCODED_HEAD = struct.Struct("<QIH")
_PAD = bytes(ALIGN)

Chunk = bytes | bytearray | memoryview


class Serialized(Record):
    """One value ready to be written: its key, facts for listings, and the blob's chunks."""

    key: str  # xxh3-128 hex digest of the uncompressed content
    size: int  # uncompressed content size: pickle plus out-of-band buffers, in bytes
    type: str  # "module.QualName" of the value's type
    chunks: tuple[Chunk, ...]  # the blob file's bytes, header included, in order

    @property
    def nbytes(self) -> int:
        """Length of the blob file these chunks make."""
        return sum(len(c) for c in self.chunks)


def type_name(value: Any) -> str:
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}"


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _layout(pickle_len: int, buf_lens: Sequence[int]) -> tuple[list[int], int]:
    """Offsets of the buffers inside the uncompressed body, and the body's length."""
    offsets = []
    end = pickle_len
    for n in buf_lens:
        start = _align(end)
        offsets.append(start)
        end = start + n
    return offsets, end


def _body_start(nbuf: int) -> int:
    n = _HEAD.size + 8 * nbuf
    return _align(n) if nbuf else n


def _digest(table: Chunk, pieces: Sequence[Chunk]) -> bytes:
    import xxhash

    h = xxhash.xxh3_128(table)
    for p in pieces:
        h.update(p)
    return h.digest()


def _table(pickle_len: int, buf_lens: Sequence[int], codec: int = 0) -> bytes:
    if codec:
        return _ENCODED_HEAD.pack(pickle_len, 0, codec)
    table = _CONTENT_HEAD.pack(pickle_len, len(buf_lens))
    if buf_lens:
        table += struct.pack(f"<{len(buf_lens)}Q", *buf_lens)
    return table


def _dumps(value: Any, name: str | None) -> tuple[bytes, list[memoryview]]:
    buffers: list[memoryview] = []

    def take(pb: pickle.PickleBuffer) -> bool:
        raw = pb.raw()
        if raw.nbytes < OOB_MIN:
            return True  # in band
        buffers.append(raw)
        return False

    try:
        data = pickle.dumps(value, protocol=5, buffer_callback=take)
    except Exception as e:
        what = f"artifact {name!r}" if name else f"a value of type {type_name(value)}"
        detail = str(e).splitlines()[0] if str(e) else ""
        fix = (
            f"store something picklable instead, or `del self.{name}` before the step ends"
            if name and name.isidentifier()
            else "store something picklable instead"
        )
        raise UnpicklableArtifact(
            f"{what} could not be pickled ({type(e).__name__}: {detail}): {fix}", name=name
        ) from e
    return data, buffers


def serialize(value: Any, name: str | None = None) -> Serialized:
    """Pickle ``value`` into a blob; see the module docstring for the format.

    ``name`` only serves the error message when the value cannot be pickled
    (:class:`UnpicklableArtifact`). Out-of-band buffers are referenced, not copied: the value
    must not change until the chunks are written.
    """
    blob = serialize_unkeyed(value, name, stream_min=None)
    assert isinstance(blob, Serialized)
    return blob


class Unkeyed(Record):
    """A large uncompressed blob whose digest (hence key) is still to be computed, so that
    hashing can run while the chunks are written. The header's digest field is zero; put
    ``digest()`` at ``DIGEST_OFFSET`` before the blob is used."""

    size: int
    type: str
    chunks: tuple[Chunk, ...]  # as Serialized.chunks, with a zero digest
    hashed: tuple[Chunk, ...]  # what the digest covers, in order

    def digest(self) -> bytes:
        return _digest(self.hashed[0], self.hashed[1:])


DIGEST_OFFSET = _HEAD.size - 16
STREAM_MIN = 32 << 20  # out-of-band data from which serialize_unkeyed leaves the hash to later


def serialize_unkeyed(
    value: Any, name: str | None = None, stream_min: int | None = STREAM_MIN
) -> Serialized | Unkeyed:
    """As :func:`serialize`, except that a value with at least ``stream_min`` bytes of
    out-of-band data (never compressed) comes back :class:`Unkeyed`: hashing it is left to the
    caller, who can do it while writing."""
    data, buffers = _dumps(value, name)
    pickle_len = len(data)
    buf_lens = [b.nbytes for b in buffers]
    table = _table(pickle_len, buf_lens)
    oob = sum(buf_lens)
    unkeyed = stream_min is not None and oob >= stream_min
    digest = bytes(16) if unkeyed else _digest(table, [data, *buffers])

    if buffers:
        offsets, body_len = _layout(pickle_len, buf_lens)
        body: list[Chunk] = [data]
        end = pickle_len
        for off, buf, n in zip(offsets, buffers, buf_lens, strict=True):
            if off > end:
                body.append(_PAD[: off - end])
            body.append(buf)
            end = off + n
    else:
        body_len = pickle_len
        body = [data]

    # Large out-of-band buffers (array data) are written as they are: compressing them would
    # cost far more time than the disk it saves, and loading could no longer map them.
    frame = None if oob >= RAW_OOB_MIN else compress_if_pays(body, body_len)
    stored: Sequence[Chunk]
    if frame is None:
        flags, stored, stored_len = 0, body, body_len
    else:
        flags, stored, stored_len = FLAG_COMPRESSED, frame, sum(len(p) for p in frame)

    nbuf = len(buffers)
    header = _HEAD.pack(MAGIC, PICKLE_VERSION, flags, 0, nbuf, pickle_len, stored_len, digest)
    if nbuf:
        header += table[_CONTENT_HEAD.size :]
        header += _PAD[: _body_start(nbuf) - len(header)]
    if unkeyed:
        return Unkeyed(
            size=pickle_len + oob,
            type=type_name(value),
            chunks=(header, *stored),
            hashed=(table, data, *buffers),
        )
    return Serialized(
        key=digest.hex(),
        size=pickle_len + oob,
        type=type_name(value),
        chunks=(header, *stored),
    )


def serialize_payload(
    pieces: Sequence[Chunk], codec: int, type: str, stream_min: int | None = STREAM_MIN
) -> Serialized | Unkeyed:
    """A blob (format version 2) of a payload another codec encoded (``codec`` > 0: its
    number in :mod:`headwater.serde.codecs`); ``type`` is what listings show. As with
    :func:`serialize_unkeyed`, a payload of at least ``stream_min`` bytes comes back
    :class:`Unkeyed`. Large payloads are stored uncompressed, as array data is."""
    assert codec > 0
    size = sum(memoryview(p).nbytes for p in pieces)
    table = _table(size, (), codec)
    unkeyed = stream_min is not None and size >= stream_min
    digest = bytes(16) if unkeyed else _digest(table, pieces)
    frame = None if size >= RAW_OOB_MIN else compress_if_pays(list(pieces), size)
    stored: list[bytes | bytearray | memoryview] | list[bytes]
    if frame is None:
        flags, stored, stored_len = 0, list(pieces), size
    else:
        flags, stored, stored_len = FLAG_COMPRESSED, frame, sum(len(p) for p in frame)
    header = _HEAD.pack(MAGIC, ENCODED_VERSION, flags, codec, 0, size, stored_len, digest)
    if unkeyed:
        return Unkeyed(size=size, type=type, chunks=(header, *stored), hashed=(table, *pieces))
    return Serialized(key=digest.hex(), size=size, type=type, chunks=(header, *stored))


def _corrupt(what: str) -> CorruptBlob:
    return CorruptBlob(f"{what}: the blob is damaged; rerun the task that produced it")


def read_key(data: Stored) -> str:
    """The key recorded in a blob's header (checks magic and version, not the content)."""
    return _parse_header(memoryview(data).cast("B"))[5].hex()


def codec_of(data: bytes | bytearray | memoryview) -> int:
    """The codec number of a blob (0: a pickled value), from its header."""
    return _parse_header(memoryview(data).cast("B"))[8]


def _parse_header(mv: memoryview) -> tuple[int, int, int, int, int, bytes, list[int], int, int]:
    size = len(mv)
    if size < 5 or bytes(mv[:4]) != MAGIC:
        raise _corrupt("not a headwater blob (bad magic bytes)")
    version = mv[4]
    if version > FORMAT_VERSION:
        raise UnsupportedFormat(
            f"blob format version {version} is newer than this headwater reads "
            f"({FORMAT_VERSION}): upgrade headwater to read it"
        )
    if version < 1:
        raise _corrupt(f"blob has invalid format version {version}")
    if size < _HEAD.size:
        raise _corrupt(f"blob is truncated ({size} bytes, shorter than its header)")
    _, version, flags, codec, nbuf, pickle_len, stored_len, digest = _HEAD.unpack_from(mv)
    if version < ENCODED_VERSION:
        codec = 0
    elif nbuf or not codec:
        raise _corrupt("an encoded blob names no codec, or has out-of-band buffers")
    if flags & ~KNOWN_FLAGS:
        raise _corrupt(f"blob header has unknown flags {flags:#x}")
    start = _body_start(nbuf)
    if size < start:
        raise _corrupt(f"blob is truncated ({size} bytes, shorter than its header)")
    buf_lens = list(struct.unpack_from(f"<{nbuf}Q", mv, _HEAD.size)) if nbuf else []
    if size != start + stored_len:
        state = "truncated" if size < start + stored_len else "longer than its header says"
        raise _corrupt(f"blob is {state} ({size} bytes, expected {start + stored_len})")
    return version, flags, nbuf, pickle_len, stored_len, digest, buf_lens, start, codec


class RawLayout(Record):
    """Where an uncompressed blob keeps its pickle stream and buffers (offsets in the blob)."""

    pickle: tuple[int, int]  # (offset, length)
    buffers: tuple[tuple[int, int], ...]  # (offset, length) of each out-of-band buffer


def raw_layout(data: Stored) -> RawLayout | None:
    """The layout of a blob stored uncompressed, None when its body is compressed (checks the
    header, not the content)."""
    mv = memoryview(data).cast("B")
    _, flags, _, pickle_len, _, _, buf_lens, start, codec = _parse_header(mv)
    if flags & FLAG_COMPRESSED or codec:
        return None
    offsets, _ = _layout(pickle_len, buf_lens)
    return RawLayout(
        pickle=(start, pickle_len),
        buffers=tuple((start + off, n) for off, n in zip(offsets, buf_lens, strict=True)),
    )


def pickle_out_of_band(value: Any) -> tuple[bytes, list[memoryview]]:
    """The pickle stream and out-of-band buffers ``serialize`` would store for ``value``,
    without hashing or copying anything."""
    return _dumps(value, None)


def deserialize(data: Stored, *, key: str | None = None, verify: bool = True) -> Any:
    """Rebuild the value of one blob.

    Out-of-band buffers come back as views of ``data`` (or of the decompressed body), not
    copies: arrays are writable when ``data`` is a writable bytearray. With ``key``, the blob
    must be the one stored under that key. With ``verify`` (the default), the content is
    checked against the header's digest, so a damaged blob raises :class:`CorruptBlob` rather
    than a strange value or error. A blob from a newer headwater raises
    :class:`UnsupportedFormat`.
    """
    codec, body = _body(data, key, verify)
    if codec:
        from headwater.serde.codecs import decode

        return decode(codec, body)
    return body


def read_payload(
    data: Stored, *, key: str | None = None, verify: bool = True
) -> tuple[int, memoryview]:
    """The codec number of a blob and its payload, decoded by nobody: for a pickled value
    (codec 0) the pickle stream, for another codec its bytes (checked as in
    :func:`deserialize`)."""
    codec, body = _body(data, key, verify, load=False)
    return codec, body


def _body(data: Stored, key: str | None, verify: bool, load: bool = True) -> tuple[int, Any]:
    """(codec, the unpickled value) for codec 0 when ``load``, else (codec, payload view)."""
    mv = memoryview(data).cast("B")
    _, flags, nbuf, pickle_len, stored_len, digest, buf_lens, start, codec = _parse_header(mv)
    if key is not None and digest.hex() != key:
        raise _corrupt(f"blob holds key {digest.hex()} but is stored as {key}")
    offsets, body_len = _layout(pickle_len, buf_lens)
    stored = mv[start : start + stored_len]
    if flags & FLAG_COMPRESSED:
        body = memoryview(decompress(stored, body_len))
    else:
        if stored_len != body_len:
            raise _corrupt(f"blob body is {stored_len} bytes but its lengths add up to {body_len}")
        body = stored
    pickled = body[:pickle_len]
    buffers = [body[off : off + n] for off, n in zip(offsets, buf_lens, strict=True)]
    table = _table(pickle_len, buf_lens, codec)
    if verify and _digest(table, [pickled, *buffers]) != digest:
        raise _corrupt("blob content does not match its checksum")
    if codec or not load:
        return codec, pickled
    try:
        return 0, pickle.loads(pickled, buffers=buffers)
    except (ImportError, AttributeError) as e:
        raise DatastoreError(
            f"a stored value could not be unpickled ({type(e).__name__}: {e}): make the module "
            "that defines its class importable here (same code and PYTHONPATH as the flow)"
        ) from e
    except (pickle.UnpicklingError, EOFError) as e:
        raise _corrupt(f"blob pickle stream is invalid ({type(e).__name__}: {e})") from None
