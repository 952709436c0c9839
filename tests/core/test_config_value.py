"""ConfigValue: a read-only dict with attribute access that pickles and dumps as JSON."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from headwater.core.config_value import ConfigValue
from headwater.exceptions import ReadOnlyArtifact

DATA = {"a": {"b": 1, "c": [1, {"d": 2}]}, "name": "x"}


def test_attribute_and_item_access():
    cfg = ConfigValue(DATA)
    assert cfg.a.b == 1 and cfg["a"]["b"] == 1
    assert cfg.a.c[1].d == 2
    assert cfg.name == "x"
    assert cfg == DATA | {"a": {"b": 1, "c": (1, {"d": 2})}}
    assert isinstance(cfg, dict) and isinstance(cfg.a, ConfigValue)
    assert cfg.get("missing", 5) == 5


def test_missing_key_names_the_keys():
    with pytest.raises(AttributeError, match=r"no key 'zz' \(its keys: 'a', 'name'\)"):
        ConfigValue(DATA).zz  # noqa: B018


@pytest.mark.parametrize(
    "change",
    [
        lambda c: setattr(c, "a", 1),
        lambda c: delattr(c, "a"),
        lambda c: c.__setitem__("a", 1),
        lambda c: c.__delitem__("a"),
        lambda c: c.update(a=1),
        lambda c: c.pop("a"),
        lambda c: c.popitem(),
        lambda c: c.setdefault("z", 1),
        lambda c: c.clear(),
        lambda c: c.a.__setitem__("b", 2),
        lambda c: c.__ior__({"z": 1}),
    ],
)
def test_read_only(change):
    cfg = ConfigValue(DATA)
    with pytest.raises(ReadOnlyArtifact, match="a config is read-only"):
        change(cfg)
    with pytest.raises(TypeError):  # what Metaflow raises, so ported code catches it
        change(cfg)
    assert cfg.a.b == 1


def test_lists_become_tuples():
    cfg = ConfigValue(DATA)
    assert isinstance(cfg.a.c, tuple)
    with pytest.raises(AttributeError):
        cfg.a.c.append(3)


def test_pickle_json_copy_and_to_dict():
    cfg = ConfigValue(DATA)
    back = pickle.loads(pickle.dumps(cfg))
    assert back == cfg and isinstance(back, ConfigValue) and isinstance(back.a, ConfigValue)
    assert json.loads(json.dumps(cfg)) == DATA
    assert copy.deepcopy(cfg) is cfg and copy.copy(cfg) is cfg
    plain = cfg.to_dict()
    assert plain == DATA and type(plain) is dict and type(plain["a"]["c"]) is list
    plain["a"]["b"] = 5  # a mutable copy
    assert cfg.a.b == 1
    assert repr(ConfigValue({"k": 1})) == "{'k': 1}"
