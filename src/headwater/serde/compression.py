"""Whether a serialized body is worth compressing, and zstd in and out of it.

A body is a sequence of byte pieces (the pickle, padding, out-of-band buffers). Compression is
decided by trial: a sample of the body is compressed, and the body is compressed only if the
sample shrinks below ``PAYS_RATIO`` of its size. Bodies smaller than ``MIN_COMPRESS_SIZE`` are
never compressed (the header and the zstd frame overhead would eat the gain).

The whole body becomes one zstd frame that records its content size. Decompression writes
into a fresh writable bytearray, so the result can back numpy arrays without a further copy.
"""

from __future__ import annotations

from collections.abc import Sequence

from headwater.exceptions import CorruptBlob

LEVEL = 3
MIN_COMPRESS_SIZE = 1024
SAMPLE_SIZE = 256 * 1024
SAMPLE_WINDOWS = 16
PAYS_RATIO = 0.9

Piece = bytes | bytearray | memoryview


def _window(pieces: Sequence[Piece], start: int, length: int) -> list[memoryview]:
    """The bytes ``[start, start + length)`` of the concatenated pieces, as views."""
    out: list[memoryview] = []
    pos = 0
    end = start + length
    for piece in pieces:
        n = len(piece)
        if pos + n > start and pos < end:
            lo = max(start - pos, 0)
            hi = min(end - pos, n)
            out.append(memoryview(piece)[lo:hi])
        pos += n
        if pos >= end:
            break
    return out


def _sample(pieces: Sequence[Piece], total: int) -> bytes:
    """Up to ``SAMPLE_SIZE`` bytes spread over the body: all of it when it is small, else
    ``SAMPLE_WINDOWS`` evenly spaced windows (so a compressible head does not hide an
    incompressible tail, or the reverse)."""
    if total <= SAMPLE_SIZE:
        return b"".join(pieces)
    win = SAMPLE_SIZE // SAMPLE_WINDOWS
    step = (total - win) // (SAMPLE_WINDOWS - 1)
    views: list[memoryview] = []
    for i in range(SAMPLE_WINDOWS):
        views.extend(_window(pieces, i * step, win))
    return b"".join(views)


def compress_if_pays(pieces: Sequence[Piece], total: int) -> list[bytes] | None:
    """Compress the body into one zstd frame if that pays; None when it does not.

    ``total`` is the sum of the pieces' lengths. The result is a list of frame pieces to be
    written in order (not joined, so a large body is never held twice uncompressed).
    """
    if total < MIN_COMPRESS_SIZE:
        return None
    import zstandard

    cctx = zstandard.ZstdCompressor(level=LEVEL)
    sample = _sample(pieces, total)
    trial = cctx.compress(sample)
    if len(trial) >= PAYS_RATIO * len(sample):
        return None
    if len(sample) == total:  # the sample was the whole body: the trial is the frame
        return [trial]
    cobj = cctx.compressobj(size=total)
    out = [cobj.compress(p) for p in pieces]
    out.append(cobj.flush())
    return [p for p in out if p]


def decompress(frame: Piece, size: int) -> bytearray:
    """Decompress one zstd frame whose content must be exactly ``size`` bytes, into a new
    writable bytearray."""
    import zstandard

    try:
        content_size = zstandard.frame_content_size(frame)
        if content_size != size:
            raise CorruptBlob(
                f"compressed body holds {content_size} bytes but the header says {size}: "
                "the blob is damaged; rerun the task that produced it"
            )
        out = bytearray(size)
        view = memoryview(out)
        reader = zstandard.ZstdDecompressor().stream_reader(frame, read_across_frames=False)
        pos = 0
        while pos < len(out):
            n = reader.readinto(view[pos:])
            if not n:
                break
            pos += n
        if pos != len(out) or reader.read(1):
            raise CorruptBlob(
                f"compressed body decompressed to a different size than its header says "
                f"({pos} bytes, expected {len(out)}): the blob is damaged; rerun the task "
                "that produced it"
            )
        return out
    except zstandard.ZstdError as e:
        raise CorruptBlob(
            f"compressed body could not be decompressed ({e}): the blob is damaged; rerun the "
            "task that produced it"
        ) from None
