"""``current.card``: which card append/extend/clear reach, ids, and warnings instead of errors."""

from __future__ import annotations

import pytest

from headwater.cards import Markdown
from headwater.cards.collector import CardCollector, CardWarning


def _collector(*cards):
    c = CardCollector()
    for i, (card_type, card_id) in enumerate(cards):
        c.add_card(card_type, card_id, key=i, index=i)
    return c


def test_a_single_card_is_the_default_even_with_an_id():
    c = _collector(("blank", "only"))
    c.append(Markdown("a"))
    c.extend([Markdown("b"), Markdown("c")])
    assert len(c["only"]) == 3
    assert c.components is c["only"]


def test_the_only_card_without_an_id_is_the_default():
    c = _collector(("default", None), ("blank", "extra"))
    c.append("x")
    assert c.slots[0].components == ["x"] and c["extra"] == []
    c["extra"].append("y")
    assert c.slots[1].components == ["y"]


def test_clear_and_refresh():
    c = _collector(("default", None))
    c.append("x")
    c.refresh()  # a no-op: cards render when the task ends
    c.clear()
    assert c.components == []
    c.components.refresh()


def test_ambiguous_default_warns_and_does_nothing():
    c = _collector(("default", None), ("blank", None))
    with pytest.warns(CardWarning, match="more than one without an id"):
        c.append("x")
    assert all(not s.components for s in c.slots)


def test_unknown_id_warns_and_returns_a_detached_list():
    c = _collector(("default", None), ("blank", "a"))
    with pytest.warns(CardWarning, match=r"no @card\(id='zz'\) on this step \(card ids: 'a'\)"):
        c["zz"].append("lost")
    assert all(s.components == [] for s in c.slots)


def test_setitem_replaces_a_cards_components():
    c = _collector(("blank", "a"))
    c["a"] = ["x", "y"]
    assert c["a"] == ["x", "y"]
    assert "a" in c and "b" not in c


def test_slots_are_kept_by_key_and_ordered_by_index():
    c = CardCollector()
    second = c.add_card("blank", "b", key="k2", index=1)
    first = c.add_card("default", None, key="k1", index=0)
    assert c.add_card("blank", "b", key="k2", index=1) is second  # same decorator, same slot
    assert [s.index for s in c.slots] == [0, 1] and c.slots[0] is first
    late = c.add_card("default", "w", key="with")  # no index: after the others
    assert late.index == 2
    assert repr(c) == "<current.card: default, blank[b], default[w]>"
