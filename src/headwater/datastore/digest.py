"""A task attempt's artifact digest: its index and its small values, as one text that the
metadata store keeps beside the attempt.

Reading one artifact of a thousand tasks from a far datastore (S3) costs two round trips per
task: its index, then the blob. A task whose datastore is far away also records its digest as
task metadata (field :data:`DIGEST_FIELD`); a client reading a step's tasks asks the metadata
store for every digest of the step in one question (``MetadataStore.step_metadata``) and reads
neither the indexes nor the small blobs from the datastore. The datastore stays the record:
a task without a digest, or one whose digest is of another attempt, is read from it as before,
and a value taken from a digest is checked against its content key like any blob.
"""

from __future__ import annotations

import base64
import json

from headwater.datastore.records import TaskIndex

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

DIGEST_FIELD = "artifacts-digest"
INLINE_MAX = 1024  # a stored blob this small or smaller travels in the digest
INLINE_TOTAL = 16 << 10  # and no more than this in all, for one task


def encode_digest(index: TaskIndex, blobs: Mapping[str, bytes]) -> str:
    """The digest of an attempt whose index is ``index``; ``blobs``: stored blobs by content
    key (the small ones this attempt wrote), of which those the index names are kept."""
    keys = {ref.key for ref in index.artifacts.values()}
    inline: dict[str, str] = {}
    total = 0
    for key in sorted(keys & blobs.keys()):
        data = blobs[key]
        if len(data) > INLINE_MAX or total + len(data) > INLINE_TOTAL:
            continue
        total += len(data)
        inline[key] = base64.b64encode(data).decode()
    return json.dumps({"index": index.to_json(), "blobs": inline}, separators=(",", ":"))


def decode_digest(text: str) -> tuple[TaskIndex, dict[str, bytes]] | None:
    """The index and the inline blobs of a digest; None for a digest this version cannot read
    (the caller then reads the datastore)."""
    from headwater.datastore.content_store import parse_index
    from headwater.exceptions import HeadwaterException

    try:
        d = json.loads(text)
        index = parse_index(json.dumps(d["index"]).encode(), "a task's artifact digest")
        blobs = {k: base64.b64decode(v) for k, v in d.get("blobs", {}).items()}
    except (ValueError, TypeError, KeyError, HeadwaterException):
        return None
    return index, blobs
