"""``headwater.record.Record``: records declared like frozen dataclasses, built as tuples."""

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
        ("a: int\n    def __new__(cls): pass", "may not define __new__"),
    ],
)
def test_bad_declarations_are_refused(body, message):
    with pytest.raises(TypeError, match=message):
        exec(f"class Bad(Record):\n    {body}\n", {"Record": Record})


def test_keywords_defaults_and_their_errors():
    assert Point(1, tags=("a",)) == Point(x=1, y=0, tags=("a",))
    assert Point._field_defaults == {"y": 0, "tags": ()}
    with pytest.raises(TypeError, match=r"Point.__new__\(\) missing .* argument: 'x'"):
        Point()
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=2)
    with pytest.raises(TypeError, match="multiple values for argument 'x'"):
        Point(1, x=2)
    with pytest.raises(TypeError, match="takes from 2 to 4 positional arguments but 5"):
        Point(1, 2, (), 4)


def test_records_behave_as_tuples():
    p = Point(1, 2)
    x, y, tags = p
    assert (x, y, tags) == (1, 2, ()) and p[1] == 2 and len(p) == 3
    assert isinstance(p, tuple) and isinstance(p, Record)
    assert p._asdict() == {"x": 1, "y": 2, "tags": ()}
    assert p._replace(y=5) == Point(1, 5) and type(p._replace(y=5)) is Point
    with pytest.raises(TypeError, match="Point has no field 'z'"):
        p._replace(z=1)
    assert p == Point(1, 2)  # unchanged
    match p:
        case Point(1, 2):
            pass
        case _:
            pytest.fail("positional match on the fields")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_records_pickle_and_copy_with_every_protocol(protocol):
    import copy

    p = Point(1, 2, ("a",))
    assert pickle.loads(pickle.dumps(p, protocol=protocol)) == p
    assert copy.copy(p) == p and copy.deepcopy(p) == p and type(copy.deepcopy(p)) is Point


def test_fields_may_not_start_with_an_underscore():
    with pytest.raises(TypeError, match="underscore"):
        exec("class Bad(Record):\n    _x: int\n", {"Record": Record})


def test_constructors_compiled_ahead_build_the_same_records():
    """A process that forks tasks compiles every record's constructor first (so no task
    compiles one again); records built after that are the same."""
    from headwater.record import compile_constructors

    class Ahead(Record):
        a: int
        b: str = "x"

    compile_constructors()
    assert "__new__" in Ahead.__dict__  # compiled in this process, inherited by its forks
    assert Ahead(1) == Ahead(a=1, b="x") == (1, "x") and repr(Ahead(2, "y")) == "Ahead(a=2, b='y')"
