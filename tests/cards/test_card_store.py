"""Card files: names that keep type, id and order; atomic writes; listing."""

from __future__ import annotations

import os

import pytest

from headwater.cards.store import (
    card_file_name,
    list_card_files,
    parse_card_file_name,
    read_card,
    write_card,
)
from headwater.core.ids import AttemptPath
from headwater.stores import open_datastore


@pytest.mark.parametrize(
    ("index", "card_type", "card_id", "name"),
    [
        (0, "default", None, "0-default.html"),
        (1, "blank", "summary", "1-blank-summary.html"),
        (2, "blank", "a-b.c_d", "2-blank-a-b.c_d.html"),
        (12, "my_type", "x", "12-my_type-x.html"),
    ],
)
def test_file_names_round_trip(index, card_type, card_id, name):
    assert card_file_name(index, card_type, card_id) == name
    assert parse_card_file_name(name) == (index, card_type, card_id)


@pytest.mark.parametrize("name", ["index.json", "stdout", ".0-default.html.12.0.tmp", "x.html"])
def test_other_files_are_not_cards(name):
    assert parse_card_file_name(name) is None


@pytest.mark.parametrize(("card_type", "card_id"), [("De-fault", None), ("blank", "../x")])
def test_bad_type_or_id_cannot_make_a_path(card_type, card_id):
    with pytest.raises(ValueError):
        card_file_name(0, card_type, card_id)


def test_write_list_and_read(tmp_path):
    ds = open_datastore("local", str(tmp_path))
    attempt = AttemptPath("Flow", "1", "start", "1", 0)
    assert list_card_files(ds, attempt) == []  # nothing stored yet: no cards
    second = write_card(ds, attempt, 1, "blank", "b", "<p>two</p>")
    first = write_card(ds, attempt, 0, "default", None, "<p>one</p>")
    ds.write_card(attempt, "notes.txt", "not a card")
    cards = list_card_files(ds, attempt)
    assert cards == [first, second]
    assert [(c.index, c.type, c.id, c.name) for c in cards] == [
        (0, "default", None, "0-default.html"),
        (1, "blank", "b", "1-blank-b.html"),
    ]
    assert first.path == str(tmp_path / "Flow/1/start/1/0/cards/0-default.html")
    assert read_card(ds, attempt, first) == "<p>one</p>"
    write_card(ds, attempt, 0, "default", None, "<p>again</p>")  # replaced whole
    assert read_card(ds, attempt, first) == "<p>again</p>"
    assert sorted(os.listdir(tmp_path / "Flow/1/start/1/0/cards")) == [
        "0-default.html",
        "1-blank-b.html",
        "notes.txt",
    ]  # no temp file left behind
