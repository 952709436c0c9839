"""``headwater.record.Record``: records declared like frozen dataclasses, built as named tuples."""

from __future__ import annotations

import pickle

import pytest

from headwater.record import EMPTY_MAPPING, Record


class Point(Record):
    """A point."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)

    def moved(self, dx: int) -> Point:
        return self._replace(x=self.x + dx)


def test_fields_defaults_methods_and_docstring():
    p = Point(3)
    assert (p.x, p.y, p.tags) == (3, 0, ())
    assert Point(x=1, y=-2).norm1 == 3
    assert p.moved(2) == Point(5)
    assert Point._fields == ("x", "y", "tags")
    assert Point.__doc__ == "A point."
    assert repr(Point(1, 2)) == "Point(x=1, y=2, tags=())"


def test_records_are_immutable_and_compare_by_value():
    p = Point(1, 2)
    with pytest.raises(AttributeError):
        p.x = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.z = 5  # type: ignore[attr-defined]  # no __dict__
    assert p == Point(1, 2) and hash(p) == hash(Point(1, 2))
    assert p != Point(2, 1)


def test_records_pickle_by_class():
    p = Point(1, 2, ("a",))
    q = pickle.loads(pickle.dumps(p))
    assert q == p and type(q) is Point


def test_empty_mapping_default_is_read_only():
    class Holder(Record):
        attrs: dict = EMPTY_MAPPING

    with pytest.raises(TypeError):
        Holder().attrs["x"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a: int = 1\n    b: int", "without a default follows one with a default"),
        ("a: int\n    def __init__(self): pass", "may not define __init__"),
        ("a: int\n    __slots__ = ()", "may not define __slots__"),
    ],
)
def test_bad_declarations_are_refused(body, message):
    with pytest.raises(TypeError, match=message):
        exec(f"class Bad(Record):\n    {body}\n", {"Record": Record})
