"""Records the datastore reads and writes: artifact references and task indexes."""

from __future__ import annotations

from collections.abc import Mapping

from headwater.core.splits import Stack, stack_from_json, stack_to_json
from headwater.record import EMPTY_MAPPING, Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

INDEX_VERSION = 1


class ArtifactRef(Record):
    """Where one saved value lives: its content key plus what a listing shows without loading."""

    key: str  # content hash of the serialized value (xxh3-128, hex)
    size: int  # serialized size in bytes, before compression
    type: str  # "module.QualName" of the value, for previews and listings ("R.<class>" from R)
    codec: str = "pickle"  # how the blob is read: pickle, neutral or rds (headwater.serde.codecs)

    def to_json(self) -> dict[str, Any]:
        d = {"key": self.key, "size": self.size, "type": self.type}
        if self.codec != "pickle":  # indexes of pickled values stay as they were
            d["codec"] = self.codec
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ArtifactRef:
        return cls(d["key"], int(d["size"]), d.get("type", ""), d.get("codec", "pickle"))


class TaskIndex(Record):
    """The artifact index of one task attempt.

    ``artifacts`` maps every artifact name the task has (inherited ones included) to its ref.
    ``stack`` is the task's split stack, outermost first: one
    :class:`~headwater.core.splits.SplitFrame` per enclosing static branch or foreach.
    ``attrs`` holds other JSON-safe facts about the task (its transition, for example).
    """

    artifacts: Mapping[str, ArtifactRef]
    stack: Stack = ()
    attrs: Mapping[str, Any] = EMPTY_MAPPING
    version: int = INDEX_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "artifacts": {k: v.to_json() for k, v in self.artifacts.items()},
            "stack": stack_to_json(self.stack),
            "attrs": dict(self.attrs),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TaskIndex:
        return cls(
            artifacts={k: ArtifactRef.from_json(v) for k, v in d.get("artifacts", {}).items()},
            stack=stack_from_json(d.get("stack", ())),
            attrs=d.get("attrs", {}),
            version=int(d.get("version", INDEX_VERSION)),
        )
