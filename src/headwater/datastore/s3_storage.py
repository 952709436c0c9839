"""Storage in an S3 bucket (AWS, or any S3-compatible server) through boto3: a key is an
object under the root's prefix (``s3://bucket/prefix`` + ``/`` + key).

- Writes are single PUTs up to ``PART_SIZE``; larger objects are multipart uploads whose
  parts go out in parallel, straight from the caller's buffers (no copy). Either way an
  object appears whole or not at all: S3 has no partial objects, and an upload that fails
  is aborted. ``if_absent`` is a conditional write (``If-None-Match: *``): the server, not a
  prior check, decides, so two writers of one blob cannot both write it.
- Reads start with a GET of the first ``PART_SIZE`` bytes, which is the whole of most
  objects; a larger object is then read by parallel ranged GETs into one preallocated
  buffer, each pinned to the first response's ETag, so an object replaced meanwhile is
  read again rather than returned mixed.
- Every request, and the reading of its body, is retried on throttling, 5xx, dropped
  connections and bodies cut short (see :mod:`headwater.datastore.s3_client`). A blob that
  is damaged in the bucket comes back as it is stored, and the datastore, which checks
  every blob against its key, reports it.
- Logs are buffered and the whole object rewritten on flush (:mod:`.s3_log`).

Making an S3Storage costs nothing: the boto3 client and the I/O threads are shared by every
instance of a process (and renewed after a fork).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from headwater.datastore import s3_client
from headwater.datastore.s3_client import Truncated, error_code, translate, with_retries
from headwater.datastore.storage import Chunk, KeyNotFound, check_key, total_size
from headwater.exceptions import DatastoreError, HeadwaterException, SettingsError

PART_SIZE = 16 << 20  # bytes per part of a multipart upload or ranged read
MAX_PARTS = 10_000  # S3's limit on the parts of one upload
READ_CHUNK = 4 << 20  # bytes per read of a response body
_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
_PRECONDITION = frozenset({"PreconditionFailed", "412"})
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.datastore.s3_log import S3LogSink


def parse_root(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` as (bucket, prefix); the prefix may be empty."""
    bad = SettingsError(
        f"invalid S3 datastore root {url!r}: expected s3://bucket or s3://bucket/prefix"
    )
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise bad
    bucket, _, prefix = url[5:].partition("/")
    prefix = prefix.strip("/")
    if not 3 <= len(bucket) <= 255 or not set(bucket) <= _BUCKET_CHARS:
        raise bad
    if prefix:
        try:
            check_key(prefix)
        except DatastoreError:
            raise bad from None
    return bucket, prefix


class _Changed(Exception):
    """The object was replaced while its parts were being read."""


class S3Storage:
    """Objects under ``s3://bucket/prefix``, on AWS or on ``endpoint_url``."""

    kind = "s3"

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        self.bucket, self.prefix = parse_root(url)
        self.endpoint_url = endpoint_url or None
        self.url = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self._base = f"{self.prefix}/" if self.prefix else ""
        self.part_size = PART_SIZE

    @classmethod
    def from_settings(cls, root: str, settings: Any) -> S3Storage:
        return cls(root, getattr(settings, "s3_endpoint_url", None))

    def __repr__(self) -> str:
        where = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3Storage({self.url!r}{where})"

    def __reduce__(self) -> tuple[object, tuple[str, str | None]]:
        return (S3Storage, (self.url, self.endpoint_url))

    @property
    def client(self) -> Any:
        """The process's boto3 (botocore) S3 client for this endpoint."""
        return s3_client.client(self.endpoint_url)

    def connect(self) -> None:
        """Make the process's client now rather than at the first request (importing boto3
        and building it take ~0.5 s): a process that forks tasks calls this first, so that
        each task starts with a client (and its own connections, see s3_client)."""
        s3_client.client(self.endpoint_url)

    def _name(self, key: str) -> str:
        return self._base + check_key(key)

    def _error(self, e: BaseException, doing: str, key: str) -> HeadwaterException:
        return translate(e, doing, f"{self.url}/{key}", self.endpoint_url)

    def _missing(self, key: str) -> KeyNotFound:
        return KeyNotFound(f"nothing is stored at {self.url}/{key}", key)

    # --- writing --------------------------------------------------------------------------------

    def put(self, key: str, data: Sequence[Chunk], *, if_absent: bool = False) -> bool:
        name = self._name(key)
        try:
            views = _views(data)
            size = total_size(views)
            if size > self.part_size:
                return self._put_parts(name, views, size, if_absent)
            return self._put_object(name, _join(views), if_absent)
        except Exception as e:
            raise self._error(e, "write", key) from e

    def _put_object(self, name: str, body: Chunk, if_absent: bool) -> bool:
        c = self.client
        extra = {"IfNoneMatch": "*"} if if_absent else {}
        try:
            with_retries(lambda: c.put_object(Bucket=self.bucket, Key=name, Body=body, **extra))
        except Exception as e:
            if if_absent and error_code(e) in _PRECONDITION:
                return False  # there already (or our own earlier try, answered too late)
            raise
        return True

    def _put_parts(self, name: str, views: list[memoryview], size: int, if_absent: bool) -> bool:
        """A multipart upload, parts in parallel; aborted unless it completes."""
        if if_absent and self._head(name) is not None:
            return False  # stored already: one request rather than the whole object
        c, bucket = self.client, self.bucket
        part = max(self.part_size, -(-size // MAX_PARTS))
        spans = [(offset, min(part, size - offset)) for offset in range(0, size, part)]
        upload = with_retries(lambda: c.create_multipart_upload(Bucket=bucket, Key=name))
        upload_id = upload["UploadId"]
        completed = False
        try:

            def send(number: int) -> dict[str, Any]:
                body = _slice(views, *spans[number - 1])
                sent = with_retries(
                    lambda: c.upload_part(
                        Bucket=bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=body
                    )
                )
                return {"PartNumber": number, "ETag": sent["ETag"]}

            parts = _run_all(send, range(1, len(spans) + 1))
            tries = 0

            def complete() -> bool:
                nonlocal tries
                tries += 1
                try:
                    c.complete_multipart_upload(
                        Bucket=bucket,
                        Key=name,
                        UploadId=upload_id,
                        MultipartUpload={"Parts": parts},
                        **({"IfNoneMatch": "*"} if if_absent else {}),
                    )
                except Exception as e:
                    if tries > 1 and error_code(e) == "NoSuchUpload" and self._head(name) == size:
                        return True  # an earlier try completed it; its answer was lost
                    raise
                return True

            try:
                completed = with_retries(complete)
            except Exception as e:
                if if_absent and error_code(e) in _PRECONDITION:
                    return False
                raise
            return True
        finally:
            if not completed:
                self._abort(name, upload_id)

    def _abort(self, name: str, upload_id: str) -> None:
        """Drop an unfinished upload's parts (best effort: a lifecycle rule is the backstop)."""
        import contextlib

        c = self.client
        with contextlib.suppress(Exception):  # the error that made us abort is the one to tell
            with_retries(
                lambda: c.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            )

    def put_many(self, items: Iterable[tuple[str, bytes]], *, if_absent: bool = False) -> None:
        todo = [(key, self._name(key), data) for key, data in items]
        large = [(key, data) for key, _, data in todo if len(data) > self.part_size]
        small = [t for t in todo if len(t[2]) <= self.part_size]

        def one(i: int) -> None:
            key, name, data = small[i]
            try:
                self._put_object(name, data, if_absent)
            except Exception as e:
                raise self._error(e, "write", key) from e

        _run_all(one, range(len(small)))
        for key, data in large:  # in this thread: their parts use the pool
            self.put(key, [data], if_absent=if_absent)

    def put_keyed_later(
        self,
        staging: str,
        data: Sequence[Chunk],
        finish: Callable[[], tuple[str, int, bytes] | None],
    ) -> str | None:
        # An object cannot be renamed: wait for the key (the digest, computed by another
        # thread while the caller's data was being prepared), then write it there at once.
        answer = finish()
        if answer is None:
            return None
        key, offset, patch = answer
        chunks = _patched(_views(data), offset, patch) if patch else data
        return key if self.put(key, chunks, if_absent=True) else None

    def appender(self, key: str) -> S3LogSink:
        from headwater.datastore.s3_log import S3LogSink

        return S3LogSink(self, check_key(key))

    def delete(self, key: str) -> None:
        name, c = self._name(key), self.client
        try:
            with_retries(lambda: c.delete_object(Bucket=self.bucket, Key=name))
        except Exception as e:
            if error_code(e) not in _NOT_FOUND:
                raise self._error(e, "delete", key) from e

    def copy(self, src: str, dst: str) -> bool:
        """A server-side copy (CopyObject: up to 5 GB, which logs never reach)."""
        source = {"Bucket": self.bucket, "Key": self._name(src)}
        target, c = self._name(dst), self.client
        try:
            with_retries(lambda: c.copy_object(Bucket=self.bucket, Key=target, CopySource=source))
        except Exception as e:
            if error_code(e) in _NOT_FOUND:
                return False
            raise self._error(e, f"copy to {self.url}/{dst} from", src) from e
        return True

    # --- reading --------------------------------------------------------------------------------

    def _fetch(
        self,
        key: str,
        span: tuple[int, int] | None = None,
        if_match: str | None = None,
        into: memoryview | None = None,
    ) -> tuple[dict[str, Any], bytearray | None]:
        """One GET (of ``span``, (offset, length), when given), its body read whole into
        ``into`` or a new bytearray, retried as one; (the response's fields, the bytes)."""
        c = self.client
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._base + key}
        if span is not None:
            args["Range"] = f"bytes={span[0]}-{span[0] + span[1] - 1}"
        if if_match is not None:
            args["IfMatch"] = if_match

        def once() -> tuple[dict[str, Any], bytearray | None]:
            response = c.get_object(**args)
            length = int(response["ContentLength"])
            if into is not None and length != len(into):
                response["Body"].close()
                raise Truncated(f"expected {len(into)} bytes, the server sent {length}")
            return response, _read_body(response["Body"], length, into)

        try:
            return with_retries(once)
        except Exception as e:
            code = error_code(e)
            if code in _NOT_FOUND:
                raise self._missing(key) from None
            if if_match is not None and code in _PRECONDITION:
                raise _Changed() from None
            raise

    def get(self, key: str) -> Chunk:
        check_key(key)
        try:
            for _ in range(5):
                try:
                    return self._get_whole(key)
                except _Changed:
                    continue  # replaced while read: read the new one
            raise DatastoreError(
                f"{self.url}/{key} kept changing while it was read: something rewrites it "
                "constantly; stop that writer and read again"
            )
        except Exception as e:
            raise self._error(e, "read", key) from e

    def _get_whole(self, key: str) -> bytearray:
        first = self.part_size
        try:
            response, head = self._fetch(key, (0, first))
        except Exception as e:
            if error_code(e) != "InvalidRange":
                raise
            response, head = self._fetch(key)  # an empty object has no byte 0
        assert head is not None
        content_range = response.get("ContentRange")
        total = int(content_range.rsplit("/", 1)[1]) if content_range else len(head)
        if total <= len(head):
            return head
        buf = bytearray(total)
        view = memoryview(buf)
        view[: len(head)] = head
        del head
        etag = response.get("ETag")
        spans = [(offset, min(first, total - offset)) for offset in range(first, total, first)]

        def part(i: int) -> None:
            offset, length = spans[i]
            self._fetch(key, spans[i], etag, view[offset : offset + length])

        _run_all(part, range(len(spans)))
        view.release()
        return buf

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        check_key(key)
        offset, length = max(0, offset), max(0, length)
        try:
            if length == 0:
                if self._head(self._base + key) is None:
                    raise self._missing(key)
                return b""
            try:
                _, data = self._fetch(key, (offset, length))
            except Exception as e:
                if error_code(e) == "InvalidRange":
                    return b""  # from past the end
                raise
            return bytes(data or b"")
        except Exception as e:
            raise self._error(e, "read", key) from e

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes | None]:
        keys = list(keys)
        for key in keys:
            check_key(key)

        def one(i: int) -> bytes | None:
            try:
                return bytes(self._fetch(keys[i])[1] or b"")
            except KeyNotFound:
                return None
            except Exception as e:
                raise self._error(e, "read", keys[i]) from e

        return dict(zip(keys, _run_all(one, range(len(keys))), strict=True))

    def _head(self, name: str) -> int | None:
        """The size of the object ``name`` (with the prefix), None when there is none."""
        c = self.client
        try:
            response = with_retries(lambda: c.head_object(Bucket=self.bucket, Key=name))
        except Exception as e:
            if error_code(e) in _NOT_FOUND:
                return None
            raise
        return int(response["ContentLength"])

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        name = self._name(key)
        try:
            return self._head(name)
        except Exception as e:
            raise self._error(e, "look up", key) from e

    def list(self, prefix: str) -> list[tuple[str, int]]:
        under = f"{self._base}{check_key(prefix)}/"
        cut = len(self._base)
        c = self.client
        out: list[tuple[str, int]] = []
        args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": under}
        try:
            while True:
                page = with_retries(lambda: c.list_objects_v2(**args))
                out.extend((o["Key"][cut:], int(o["Size"])) for o in page.get("Contents", ()))
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    break
                args["ContinuationToken"] = token
        except Exception as e:
            raise self._error(e, "list", f"{prefix}/") from e
        out.sort()
        return out

    def close(self) -> None:
        """Nothing to release: the client and threads are the process's (see s3_client)."""


# --- buffers ----------------------------------------------------------------------------------


def _views(data: Sequence[Chunk]) -> list[memoryview]:
    """The chunks as flat byte views (a numpy buffer's view counts elements, not bytes)."""
    return [memoryview(c).cast("B") for c in data]


def _join(views: list[memoryview]) -> Chunk:
    """One request body: the single chunk as it is, several joined."""
    if len(views) == 1:
        return views[0]
    return b"".join(views)


def _slice(views: list[memoryview], offset: int, length: int) -> Chunk:
    """``length`` bytes from ``offset`` of the chunks: a view when one chunk holds them."""
    pieces: list[memoryview] = []
    pos = 0
    end = offset + length
    for v in views:
        n = len(v)
        if pos + n > offset and pos < end:
            pieces.append(v[max(0, offset - pos) : min(n, end - pos)])
        pos += n
        if pos >= end:
            break
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _patched(views: list[memoryview], offset: int, patch: bytes) -> list[Chunk]:
    """The chunks with ``patch`` written over them at ``offset`` (the caller's are untouched)."""
    out: list[Chunk] = []
    pos = 0
    end = offset + len(patch)
    for v in views:
        n = len(v)
        if pos + n <= offset or pos >= end:
            out.append(v)
        else:
            piece = bytearray(v)  # a chunk the patch reaches (the small header)
            lo, hi = max(offset, pos), min(end, pos + n)
            piece[lo - pos : hi - pos] = patch[lo - offset : hi - offset]
            out.append(piece)
        pos += n
    return out


def _read_body(body: Any, length: int, into: memoryview | None) -> bytearray | None:
    """Read a response body of ``length`` bytes into ``into`` (or a new bytearray, returned);
    raises Truncated when it ends early, after closing the connection (never reused)."""
    target = bytearray(length) if into is None else None
    view = memoryview(target) if target is not None else into
    assert view is not None
    pos = 0
    try:
        while pos < length:
            chunk = body.read(min(length - pos, READ_CHUNK))
            if not chunk:
                break
            view[pos : pos + len(chunk)] = chunk
            pos += len(chunk)
    finally:
        if pos < length:
            body.close()
        if target is not None:
            view.release()
    if pos < length:
        raise Truncated(f"the body ended after {pos} of {length} bytes")
    return target


def _run_all(fn: Callable[[int], Any], items: range) -> list[Any]:
    """``fn`` of each item on the process's I/O threads; their results in order. On the
    first failure the rest are cancelled, those under way awaited, and the failure raised."""
    if len(items) <= 1:
        return [fn(i) for i in items]
    from concurrent.futures import FIRST_EXCEPTION, wait

    pool = s3_client.executor()
    futures = [pool.submit(fn, i) for i in items]
    _, pending = wait(futures, return_when=FIRST_EXCEPTION)
    if pending:
        for f in pending:
            f.cancel()
        wait(pending)
        for f in futures:
            if not f.cancelled() and (exc := f.exception()) is not None:
                raise exc
    return [f.result() for f in futures]
