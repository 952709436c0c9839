"""The datastore over any storage backend: content-addressed blobs, indexes, logs, results,
cards and code packages (the key layout is in :mod:`headwater.datastore.store`).

Blobs are content-addressed (see :mod:`headwater.serde.blob`): a value saved again, by any
task of any run, costs one existence check (none when this process saw the key already) and
no write. A large value is written while another thread hashes it and named once both are
done (:meth:`Storage.put_keyed_later`). Every object appears atomically; a blob's content is
checked against its key when it is read, so a damaged or truncated blob is reported, never
returned.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from headwater.core.ids import AttemptPath
from headwater.datastore.digest import INLINE_MAX
from headwater.datastore.records import INDEX_VERSION, ArtifactRef, TaskIndex
from headwater.datastore.storage import KeyNotFound, LogSink, Storage, check_part
from headwater.exceptions import (
    CorruptBlob,
    DatastoreError,
    IndexNotFound,
    UnsupportedFormat,
)
from headwater.serde.blob import (
    DIGEST_OFFSET,
    Unkeyed,
    codec_of,
    deserialize,
    read_payload,
    serialize_payload,
    serialize_unkeyed,
)

INDEX_FILE = "index.json"
RESULT_FILE = "result.json"
CARDS_DIR = "cards"
LOG_STREAMS = ("stdout", "stderr")
_HEX = "0123456789abcdef"

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class ContentStore:
    """Artifacts and everything else a run keeps, over one :class:`Storage`."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._flows: dict[str, str] = {}  # flow name -> the name, checked
        self._known: set[str] = set()  # storage keys of blobs known to exist
        self._attempts: dict[AttemptPath, str] = {}  # attempt -> its key prefix
        self._mapped: Any = None  # MappedBlobs of values loaded with track=True
        self._encoded: dict[str, str] = {}  # key -> blob's storage key, of tracked R values
        # Small blobs this process wrote, by key, when the storage is far away: a task's
        # artifact digest carries them (headwater.datastore.digest).
        self.small_blobs: dict[str, bytes] | None = None if storage.kind == "local" else {}
        self.save_s = 0.0
        self.load_s = 0.0

    def __repr__(self) -> str:
        return f"ContentStore({self.storage!r})"

    def __reduce__(self) -> tuple[object, tuple[Storage]]:
        return (ContentStore, (self.storage,))

    @property
    def url(self) -> str:
        return self.storage.url

    def close(self) -> None:
        self.storage.close()

    # --- keys -------------------------------------------------------------------------------

    def _flow(self, flow: str) -> str:
        checked = self._flows.get(flow)
        if checked is None:
            checked = self._flows[flow] = check_part(flow, "flow name")
        return checked

    def blob_key(self, flow: str, key: str) -> str:
        if len(key) < 3 or key.strip(_HEX):
            raise DatastoreError(
                f"invalid artifact key {key!r}: expected a lowercase hex digest; the artifact "
                "index that holds it is damaged"
            )
        return f"{self._flow(flow)}/blobs/{key[:2]}/{key}"

    def attempt_key(self, path: AttemptPath) -> str:
        """The key prefix of one attempt: ``Flow/run/step/task/attempt``."""
        prefix = self._attempts.get(path)
        if prefix is None:
            prefix = "/".join(
                (
                    self._flow(path.flow),
                    check_part(path.run_id, "run id"),
                    check_part(path.step, "step name"),
                    check_part(path.task_id, "task id"),
                    str(int(path.attempt)),
                )
            )
            if len(self._attempts) > 4096:
                self._attempts.clear()
            self._attempts[path] = prefix
        return prefix

    def _log_key(self, path: AttemptPath, stream: str) -> str:
        if stream not in LOG_STREAMS:
            raise DatastoreError(f"unknown log stream {stream!r}: expected 'stdout' or 'stderr'")
        return f"{self.attempt_key(path)}/{stream}"

    # --- artifacts --------------------------------------------------------------------------

    def save_values(self, flow: str, values: Mapping[str, Any]) -> dict[str, ArtifactRef]:
        t0 = time.perf_counter()
        try:
            refs: dict[str, ArtifactRef] = {}
            for name, value in values.items():
                s = serialize_unkeyed(value, name=name)
                refs[name] = ArtifactRef(key=self._store(flow, name, s), size=s.size, type=s.type)
            return refs
        finally:
            self.save_s += time.perf_counter() - t0

    def save_encoded(self, flow: str, name: str, codec: str, pieces: Any, type: str) -> ArtifactRef:
        """Store a value another codec encoded (``neutral`` or ``rds``: an R step's value),
        as its payload ``pieces``; its ref records the codec."""
        from headwater.serde.codecs import codec_number

        t0 = time.perf_counter()
        try:
            s = serialize_payload(pieces, codec_number(codec), type)
            return ArtifactRef(self._store(flow, name, s), s.size, s.type, codec)
        finally:
            self.save_s += time.perf_counter() - t0

    def _store(self, flow: str, name: str, s: Any) -> str:
        """Write one serialized blob unless it is stored already; returns its key."""
        if isinstance(s, Unkeyed):
            return self._save_unkeyed(flow, name, s)
        blob_key = self.blob_key(flow, s.key)
        if blob_key not in self._known:
            self._put(blob_key, s.chunks, f"artifact {name!r}")
            self._known.add(blob_key)
        if self.small_blobs is not None and sum(len(c) for c in s.chunks) <= INLINE_MAX:
            self.small_blobs[s.key] = b"".join(s.chunks)
        return s.key

    def _put(self, key: str, chunks: Any, what: str) -> None:
        try:
            self.storage.put(key, chunks, if_absent=True)
        except DatastoreError as e:
            raise type(e)(f"could not store {what}: {e}") from e.__cause__

    def _save_unkeyed(self, flow: str, name: str, blob: Unkeyed) -> str:
        """Write a large blob while another thread hashes it (the two take about as long, and
        both run outside the GIL); it is named by the hash once both are done, or dropped when
        that blob is stored already. Returns the key."""
        import threading

        digest: list[bytes] = []
        hasher = threading.Thread(target=lambda: digest.append(blob.digest()), daemon=True)
        hasher.start()

        def finish() -> tuple[str, int, bytes] | None:
            hasher.join()
            if not digest:
                raise DatastoreError(f"could not hash artifact {name!r}")
            blob_key = self.blob_key(flow, digest[0].hex())
            if blob_key in self._known:
                return None
            return blob_key, DIGEST_OFFSET, digest[0]

        try:
            self.storage.put_keyed_later(f"{self._flow(flow)}/blobs", blob.chunks, finish)
        except DatastoreError as e:
            raise type(e)(f"could not store artifact {name!r}: {e}") from e.__cause__
        finally:
            hasher.join()
        key = digest[0].hex()
        self._known.add(self.blob_key(flow, key))
        return key

    def has_blob(self, flow: str, key: str) -> bool:
        blob_key = self.blob_key(flow, key)
        if blob_key in self._known:
            return True
        if self.storage.exists(blob_key):
            self._known.add(blob_key)
            return True
        return False

    def load_value(self, flow: str, key: str, track: bool = False) -> Any:
        t0 = time.perf_counter()
        try:
            return self._load_value(flow, key, track)
        finally:
            self.load_s += time.perf_counter() - t0

    def _blob(self, flow: str, key: str) -> Any:
        blob_key = self.blob_key(flow, key)
        try:
            buf = self.storage.get(blob_key)
        except KeyNotFound:
            raise DatastoreError(
                f"artifact blob {key} is missing from {self.url}: the datastore is incomplete "
                "(deleted, or copied without its blobs); rerun the task that produced it"
            ) from None
        self._known.add(blob_key)
        return buf

    def load_payload(self, flow: str, key: str) -> tuple[str, memoryview]:
        """The codec of the blob ``key`` and its payload, undecoded (for a pickled value, its
        pickle stream): what an R step is handed for an R value."""
        from headwater.serde.codecs import codec_name

        t0 = time.perf_counter()
        try:
            buf = self._blob(flow, key)
            try:
                number, payload = read_payload(buf, key=key)
            except (CorruptBlob, UnsupportedFormat) as e:
                raise type(e)(f"artifact blob {key} in {self.url}: {e}") from None
            return codec_name(number), payload
        finally:
            self.load_s += time.perf_counter() - t0

    def _load_value(self, flow: str, key: str, track: bool) -> Any:
        buf = self._blob(flow, key)
        try:
            value = deserialize(buf, key=key)
        except (CorruptBlob, UnsupportedFormat) as e:
            raise type(e)(f"artifact blob {self.blob_key(flow, key)} in {self.url}: {e}") from None
        if not track:
            return value
        if codec_of(buf):  # an R value: see unchanged_since_load
            self._encoded[key] = self.blob_key(flow, key)
        elif type(buf).__name__ == "mmap":
            if self._mapped is None:
                from headwater.datastore.mapped import MappedBlobs

                self._mapped = MappedBlobs()
            self._mapped.add(key, buf)
        return value

    def load_values(self, flow: str, keys: Sequence[str]) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            blob_keys = {self.blob_key(flow, k): k for k in keys}
            found = self.storage.get_many(list(blob_keys))
            out = {}
            for blob_key, data in found.items():
                if data is None:
                    continue
                key = blob_keys[blob_key]
                try:
                    out[key] = deserialize(data, key=key)
                except (CorruptBlob, UnsupportedFormat) as e:
                    raise type(e)(f"artifact blob {blob_key} in {self.url}: {e}") from None
            return out
        finally:
            self.load_s += time.perf_counter() - t0

    def unchanged_since_load(self, key: str, value: Any) -> bool:
        """Whether ``value``, loaded with ``track`` from the blob ``key``, would serialize to
        that same blob (see :mod:`headwater.datastore.mapped`); False when unsure. A value of
        another codec (an R value read in Python) is unchanged when it still equals what the
        blob holds."""
        blob_key = self._encoded.get(key)
        if blob_key is not None:
            return self._same_as_stored(blob_key, value)
        return self._mapped is not None and self._mapped.unchanged(key, value)

    def _same_as_stored(self, blob_key: str, value: Any) -> bool:
        """Whether ``value`` is still what the encoded blob holds (compared as values: R and
        Python do not write the same bytes for one value)."""
        from headwater.serde.codecs import NEUTRAL, codec_name
        from headwater.serde.neutral_same import same_as_decoded
        from headwater.serde.robject import RObject

        try:
            number, payload = read_payload(self.storage.get(blob_key))
        except (KeyNotFound, DatastoreError):
            return False
        if codec_name(number) == NEUTRAL:
            return same_as_decoded(value, payload)
        return isinstance(value, RObject) and value.rds == bytes(payload)

    # --- indexes ----------------------------------------------------------------------------

    def write_index(self, path: AttemptPath, index: TaskIndex) -> None:
        data = json.dumps(index.to_json(), separators=(",", ":")).encode()
        self._put_small(f"{self.attempt_key(path)}/{INDEX_FILE}", data, path, "artifact index")

    def _put_small(self, key: str, data: bytes, path: AttemptPath, what: str) -> None:
        try:
            self.storage.put(key, [data])
        except DatastoreError as e:
            raise type(e)(f"could not store the {what} of {path.pathspec}: {e}") from e.__cause__

    def _index_bytes(self, path: AttemptPath) -> bytes:
        key = f"{self.attempt_key(path)}/{INDEX_FILE}"
        try:
            return bytes(self.storage.get(key))
        except KeyNotFound:
            raise IndexNotFound(
                f"no artifact index for {path.pathspec} attempt {path.attempt} in {self.url}: "
                "the attempt has not finished successfully, or never ran"
            ) from None

    def read_index(self, path: AttemptPath) -> TaskIndex:
        """Raises :class:`IndexNotFound` when there is none, :class:`UnsupportedFormat` when a
        newer headwater wrote it, and :class:`DatastoreError` when it cannot be parsed."""
        where = f"{self.url}/{self.attempt_key(path)}/{INDEX_FILE}"
        return parse_index(self._index_bytes(path), where)

    def read_indexes(self, paths: Sequence[AttemptPath]) -> list[TaskIndex]:
        if len(paths) < 2:
            return [self.read_index(p) for p in paths]
        keys = [f"{self.attempt_key(p)}/{INDEX_FILE}" for p in paths]
        found = self.storage.get_many(keys)
        out = []
        for path, key in zip(paths, keys, strict=True):
            data = found.get(key)
            if data is None:
                self._index_bytes(path)  # raises IndexNotFound with the usual message
            out.append(parse_index(bytes(data or b""), f"{self.url}/{key}"))
        return out

    def has_index(self, path: AttemptPath) -> bool:
        return self.storage.exists(f"{self.attempt_key(path)}/{INDEX_FILE}")

    def copy_index(self, src: AttemptPath, dst: AttemptPath) -> None:
        self._put_small(
            f"{self.attempt_key(dst)}/{INDEX_FILE}", self._index_bytes(src), dst, "artifact index"
        )

    # --- task results -----------------------------------------------------------------------

    def write_result(self, path: AttemptPath, data: bytes) -> None:
        self._put_small(f"{self.attempt_key(path)}/{RESULT_FILE}", data, path, "task result")

    def read_result(self, path: AttemptPath) -> bytes | None:
        try:
            return bytes(self.storage.get(f"{self.attempt_key(path)}/{RESULT_FILE}"))
        except KeyNotFound:
            return None

    # --- logs -------------------------------------------------------------------------------

    def open_log(self, path: AttemptPath, stream: str) -> LogSink:
        return self.storage.appender(self._log_key(path, stream))

    def read_log(self, path: AttemptPath, stream: str) -> bytes:
        try:
            return bytes(self.storage.get(self._log_key(path, stream)))
        except KeyNotFound:
            return b""

    def read_log_range(self, path: AttemptPath, stream: str, offset: int, length: int) -> bytes:
        try:
            return self.storage.get_range(self._log_key(path, stream), offset, length)
        except KeyNotFound:
            return b""

    def log_size(self, path: AttemptPath, stream: str) -> int:
        return self.storage.size(self._log_key(path, stream)) or 0

    def copy_logs(self, src: AttemptPath, dst: AttemptPath) -> None:
        for stream in LOG_STREAMS:
            self.storage.copy(self._log_key(src, stream), self._log_key(dst, stream))

    # --- cards ------------------------------------------------------------------------------

    def write_card(self, path: AttemptPath, name: str, html: str) -> None:
        key = f"{self.attempt_key(path)}/{CARDS_DIR}/{check_part(name, 'card file name')}"
        self._put_small(key, html.encode("utf-8"), path, f"card {name}")

    def list_cards(self, path: AttemptPath) -> list[str]:
        prefix = f"{self.attempt_key(path)}/{CARDS_DIR}"
        return [key[len(prefix) + 1 :] for key, _ in self.storage.list(prefix)]

    def read_card(self, path: AttemptPath, name: str) -> str:
        key = f"{self.attempt_key(path)}/{CARDS_DIR}/{check_part(name, 'card file name')}"
        try:
            return bytes(self.storage.get(key)).decode("utf-8")
        except KeyNotFound:
            raise DatastoreError(
                f"card {name} of {path.pathspec} is gone from {self.url}: the datastore was "
                "changed after it was listed"
            ) from None

    # --- code packages ----------------------------------------------------------------------

    def _package_key(self, flow: str, key: str) -> str:
        if len(key) < 3 or key.strip(_HEX):
            raise DatastoreError(f"invalid code package key {key!r}: expected a hex digest")
        return f"{self._flow(flow)}/packages/{key}.tgz"

    def save_package(self, flow: str, data: bytes) -> str:
        import hashlib

        key = hashlib.sha256(data).hexdigest()
        self._put(self._package_key(flow, key), [data], "the code package")
        return key

    def load_package(self, flow: str, key: str) -> bytes:
        try:
            data = bytes(self.storage.get(self._package_key(flow, key)))
        except KeyNotFound:
            raise DatastoreError(
                f"code package {key} of {flow} is missing from {self.url}: the datastore is "
                "incomplete"
            ) from None
        import hashlib

        if hashlib.sha256(data).hexdigest() != key:
            raise CorruptBlob(
                f"code package {key} of {flow} in {self.url} is damaged (its content does not "
                "match its key): run the flow again to store a new one"
            )
        return data


def parse_index(data: bytes, where: str) -> TaskIndex:
    def bad(why: str) -> DatastoreError:
        return DatastoreError(
            f"artifact index {where} is damaged ({why}): delete that attempt and rerun the task"
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
            f"artifact index {where} has format version {version}, newer than this headwater "
            f"reads ({INDEX_VERSION}): upgrade headwater to read it"
        )
    if not isinstance(d.get("artifacts", {}), dict):
        raise bad("'artifacts' is not an object")
    try:
        return TaskIndex.from_json(d)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise bad(f"{type(e).__name__}: {e}") from None
