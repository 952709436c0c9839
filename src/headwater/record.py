"""``Record``: the base of headwater's immutable records, declared like frozen dataclasses.

::

    class RunRecord(Record):
        flow: str
        run_id: str
        origin_run_id: str | None = None

        @property
        def pathspec(self) -> str: ...

makes a tuple with those fields (in order, trailing ones with defaults), keeping the
class's methods and properties. Instances are immutable (assigning a field raises
AttributeError), compare and hash by value, pickle by reference to their class, and
``rec._replace(field=value)`` makes a changed copy.

Why not ``dataclasses``: importing it costs 15-20 ms (it imports ``inspect``) and every frozen
dataclass costs about 1 ms to create, which was a third of a 3-step run and most of a client
lookup. Why not ``typing.NamedTuple``: importing ``typing`` (and ``re`` with it) is another
5-8 ms. Why not ``collections.namedtuple``: importing ``collections`` costs 2-3 ms (it pulls in
``operator``, ``keyword``, ``reprlib`` and ``itertools``) and each class compiles a
constructor, which was a tenth of a whole client process that looks up one run. A record is
a tuple subclass with a field accessor per field (the C one named tuples use); constructing
one from all its values costs what a named tuple does. The first call with keywords or
defaults compiles the class's constructor (a named tuple compiles one for every class, used
or not); a process that forks tasks compiles them all first (:func:`compile_constructors`).

Mutable fields are allowed but shared defaults are not: give a mutable field no default, or
an immutable one (``()``, ``frozenset()``, :data:`EMPTY_MAPPING`).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - type checkers read this; nothing imports typing
    import types
    from collections.abc import Iterator
    from typing import Any, ClassVar, TypeVar

    from typing_extensions import dataclass_transform  # typing has it from 3.11

    _R = TypeVar("_R", bound="Record")
else:

    def dataclass_transform(**_kwargs: object):  # type: ignore[no-redef]
        return lambda cls: cls


try:  # the C field accessor of named tuples (a builtin module: no import cost)
    from _collections import _tuplegetter  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - other Pythons
    from _operator import itemgetter

    def _tuplegetter(index: int, doc: str) -> Any:
        return property(itemgetter(index), doc=doc)


# The type of a class's __dict__ is the read-only mapping proxy (``types`` costs an import).
_MappingProxy: type[types.MappingProxyType[Any, Any]] = type(type.__dict__)
EMPTY_MAPPING: types.MappingProxyType[Any, Any] = _MappingProxy({})
"""An immutable empty mapping, the default for mapping fields."""

_tuple_new: Any = tuple.__new__


def _compiled_new(cls: Any) -> Any:
    """A constructor taking the fields as parameters, with their defaults (what a named tuple
    compiles for every class), made on the first call that needs it: keywords, or fewer
    values than fields. A class only ever built from all its values never compiles one."""
    fields = ", ".join(cls._fields)
    code = f"def __new__(_cls, {fields}):\n    return _tuple_new(_cls, ({fields},))\n"
    namespace: dict[str, Any] = {"_tuple_new": _tuple_new}
    exec(code, namespace)  # noqa: S102 - the names are the class's annotated fields
    new = namespace["__new__"]
    new.__defaults__ = tuple(cls._field_defaults.values()) or None
    new.__qualname__ = f"{cls.__qualname__}.__new__"
    return new


_UNCOMPILED: list[Any] = []  # record classes still built by _record_new


def _compile(cls: Any) -> Any:
    new = _compiled_new(cls)
    cls.__new__ = staticmethod(new)  # from now on, for every call
    return new


def _record_new(cls: Any, *args: Any, **kwargs: Any) -> Any:
    if kwargs or len(args) != len(cls._fields):
        return _compile(cls)(cls, *args, **kwargs)
    return _tuple_new(cls, args)


def compile_constructors() -> None:
    """Compile the constructor of every record class made so far. A process that forks tasks
    calls it first (headwater.runtime.task.warm_up): a constructor each task compiled for
    itself would be compiled again in every task."""
    while _UNCOMPILED:
        cls = _UNCOMPILED.pop()
        if "__new__" not in cls.__dict__:
            _compile(cls)


@dataclass_transform(frozen_default=True)
class _RecordMeta(type):
    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
        if bases == (tuple,):  # Record itself
            return super().__new__(mcls, name, bases, ns)
        if bases != (Record,):
            raise TypeError(f"{name}: a Record subclasses Record alone")
        fields = tuple(ns.get("__annotations__", {}))
        defaults = {}
        for f in fields:
            if f.startswith("_"):
                raise TypeError(f"{name}: field {f!r} may not start with an underscore")
            if f in ns:
                defaults[f] = ns.pop(f)
            elif defaults:
                raise TypeError(f"{name}: field {f!r} without a default follows one with a default")
        for bad in ("__init__", "__new__", "__slots__", "__dict__"):
            if bad in ns:
                raise TypeError(f"{name}: a Record may not define {bad}")
        ns["__slots__"] = ()
        ns["_fields"] = fields
        ns["_field_defaults"] = defaults
        ns["_field_index"] = {f: i for i, f in enumerate(fields)}
        ns["__match_args__"] = fields
        for index, f in enumerate(fields):
            ns[f] = _tuplegetter(index, f"field {index}: {f}")
        cls = super().__new__(mcls, name, bases, ns)
        _UNCOMPILED.append(cls)
        return cls


if TYPE_CHECKING:
    _Tuple = object  # checkers see the fields dataclass_transform describes, not a tuple
else:
    _Tuple = tuple


class Record(_Tuple, metaclass=_RecordMeta):
    """Subclass and annotate fields (see the module docstring); never instantiated itself."""

    __slots__ = ()

    if TYPE_CHECKING:  # what every record has, for type checkers
        _fields: ClassVar[tuple[str, ...]]
        _field_defaults: ClassVar[dict[str, Any]]
        _field_index: ClassVar[dict[str, int]]

        def __iter__(self) -> Iterator[Any]: ...

        def __getitem__(self, index: int) -> Any: ...

        def __len__(self) -> int: ...

    else:
        __new__ = _record_new

    def _replace(self: _R, **changes: Any) -> _R:
        """A copy with the fields in ``changes`` set to new values."""
        values = list(self)
        index = self._field_index
        for name, value in changes.items():
            if name not in index:
                raise TypeError(f"{type(self).__name__} has no field {name!r}")
            values[index[name]] = value
        return _tuple_new(type(self), values)

    def _asdict(self) -> dict[str, Any]:
        """The fields by name."""
        return dict(zip(self._fields, self))  # noqa: B905 - as long as each other

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={v!r}" for f, v in zip(self._fields, self, strict=True))
        return f"{type(self).__name__}({shown})"

    def __getnewargs__(self) -> tuple[Any, ...]:  # pickle and copy call __new__ with the fields
        return tuple(self)
