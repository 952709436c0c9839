"""Records the datastore reads and writes: artifact references and task indexes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INDEX_VERSION = 1


@dataclass(frozen=True)
class ArtifactRef:
    """Where one saved value lives: its content key plus what a listing shows without loading."""

    key: str  # content hash of the serialized value (xxh3-128, hex)
    size: int  # serialized size in bytes, before compression
    type: str  # "module.QualName" of the value, for previews and listings

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "size": self.size, "type": self.type}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ArtifactRef:
        # Bypass the frozen __init__ (one object.__setattr__ per field): indexes are read by
        # the thousand, and this is most of the cost of reading one.
        ref = object.__new__(cls)
        ref.__dict__.update(key=d["key"], size=int(d["size"]), type=d.get("type", ""))
        return ref


@dataclass(frozen=True)
class TaskIndex:
    """The artifact index of one task attempt.

    ``artifacts`` maps every artifact name the task has (inherited ones included) to its ref.
    ``stack`` is the task's split stack, outermost first: one JSON-safe dict per enclosing
    static branch or foreach (keys: kind, step, task, attempt, var, index, num_splits).
    ``attrs`` holds other JSON-safe facts about the task (its transition, for example).
    """

    artifacts: Mapping[str, ArtifactRef]
    stack: tuple[Mapping[str, Any], ...] = ()
    attrs: Mapping[str, Any] = field(default_factory=dict)
    version: int = INDEX_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "artifacts": {k: v.to_json() for k, v in self.artifacts.items()},
            "stack": [dict(f) for f in self.stack],
            "attrs": dict(self.attrs),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TaskIndex:
        return cls(
            artifacts={k: ArtifactRef.from_json(v) for k, v in d.get("artifacts", {}).items()},
            stack=tuple(d.get("stack", ())),
            attrs=d.get("attrs", {}),
            version=int(d.get("version", INDEX_VERSION)),
        )
