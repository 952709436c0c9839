"""``RObject``: an R value Python cannot read (a model, an S4 object, a function), kept whole.

An R step that assigns such a value stores it as R's ``serialize()`` bytes (the format
``readRDS`` reads when uncompressed). In Python it is an ``RObject`` holding those bytes; a
Python step can keep it, pass it on or write it to a ``.rds`` file, and any R step that reads
it gets the original object back.
"""

from __future__ import annotations


class RObject:
    """The RDS bytes of an R object, opaque to Python."""

    __slots__ = ("rds", "r_class")

    def __init__(self, rds: bytes, r_class: tuple[str, ...] | list[str] = ()) -> None:
        self.rds = bytes(rds)
        self.r_class = tuple(r_class)

    def __repr__(self) -> str:
        kind = f" of class {'/'.join(self.r_class)}" if self.r_class else ""
        return f"<R object{kind}, {len(self.rds):,} bytes of RDS>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RObject) and other.rds == self.rds

    def __hash__(self) -> int:
        return hash(self.rds)

    def __reduce__(self) -> tuple[type, tuple[bytes, tuple[str, ...]]]:
        return (RObject, (self.rds, self.r_class))

    def save(self, path: str) -> None:
        """Write the object as an ``.rds`` file that R's ``readRDS(path)`` reads."""
        with open(path, "wb") as fh:
            fh.write(self.rds)
