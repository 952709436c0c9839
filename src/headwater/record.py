"""``Record``: the base of headwater's immutable records, declared like frozen dataclasses.

::

    class RunRecord(Record):
        flow: str
        run_id: str
        origin_run_id: str | None = None

        @property
        def pathspec(self) -> str: ...

makes a named tuple with those fields (in order, trailing ones with defaults), keeping the
class's methods and properties. Instances are immutable (assigning a field raises
AttributeError), compare and hash by value, pickle by reference to their class, and
``rec._replace(field=value)`` makes a changed copy.

Why not ``dataclasses``: importing it costs 15-20 ms (it imports ``inspect``) and every frozen
dataclass costs about 1 ms to create, which was a third of a 3-step run and most of a client
lookup; a named tuple class costs about 0.1 ms and constructs 3-4 times faster, which matters
when a client read builds thousands of records. Why not ``typing.NamedTuple``: importing
``typing`` (and ``re`` with it) is another 5-8 ms that these paths otherwise never pay.

Mutable fields are allowed but shared defaults are not: give a mutable field no default, or
an immutable one (``()``, ``frozenset()``, :data:`EMPTY_MAPPING`).
"""

from __future__ import annotations

import types
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - type checkers read this; nothing imports typing
    from collections.abc import Iterator
    from typing import Any, ClassVar, TypeVar

    from typing_extensions import dataclass_transform  # typing has it from 3.11

    _R = TypeVar("_R", bound="Record")
else:

    def dataclass_transform(**_kwargs: object):  # type: ignore[no-redef]
        return lambda cls: cls


EMPTY_MAPPING: types.MappingProxyType[Any, Any] = types.MappingProxyType({})
"""An immutable empty mapping, the default for mapping fields."""


@dataclass_transform(frozen_default=True)
class _RecordMeta(type):
    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
        if not bases:  # Record itself
            return super().__new__(mcls, name, bases, ns)
        if bases != (Record,):
            raise TypeError(f"{name}: a Record subclasses Record alone")
        fields = tuple(ns.get("__annotations__", {}))
        defaults = []
        for f in fields:
            if f in ns:
                defaults.append(ns.pop(f))
            elif defaults:
                raise TypeError(f"{name}: field {f!r} without a default follows one with a default")
        for bad in ("__init__", "__slots__", "__dict__"):
            if bad in ns:
                raise TypeError(f"{name}: a Record may not define {bad}")
        # Checkers read namedtuple() calls statically and need literal names and defaults; the
        # fields a checker sees come from dataclass_transform above.
        base = namedtuple(name, fields, defaults=defaults, module=ns.get("__module__"))  # type: ignore[misc]
        return type(name, (base,), {**ns, "__slots__": ()})


class Record(metaclass=_RecordMeta):
    """Subclass and annotate fields (see the module docstring); never instantiated itself."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the named tuple gives every record, for type checkers
        _fields: ClassVar[tuple[str, ...]]

        def _replace(self: _R, **changes: Any) -> _R: ...

        def _asdict(self) -> dict[str, Any]: ...

        def __iter__(self) -> Iterator[Any]: ...

        def __getitem__(self, index: int) -> Any: ...

        def __len__(self) -> int: ...
