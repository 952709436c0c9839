"""``ConfigValue``: the value of a Config inside steps and in the client.

A read-only dict with attribute access (``cfg.a.b`` as well as ``cfg["a"]["b"]``). Nested
dicts are ConfigValues too and lists become tuples, so nothing in it can change. It is a
``dict`` subclass, so ``json.dumps``, ``isinstance(v, dict)`` and ``**cfg`` work; it pickles
by value (a plain dict of its items).
"""

from __future__ import annotations

from collections.abc import Mapping

from headwater.exceptions import ReadOnlyConfig

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, NoReturn


def freeze(value: Any) -> Any:
    """``value`` with every dict made a ConfigValue and every list a tuple."""
    if isinstance(value, ConfigValue):
        return value
    if isinstance(value, Mapping):
        return ConfigValue(value)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The plain-Python copy of a frozen value: dicts and lists again."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


class ConfigValue(dict):
    """An immutable dict whose keys also read as attributes."""

    __slots__ = ()

    def __init__(self, data: Any = ()) -> None:
        items = data.items() if isinstance(data, Mapping) else data
        dict.__init__(self, ((k, freeze(v)) for k, v in items))

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            pass
        if name.startswith("__"):
            raise AttributeError(name)
        keys = ", ".join(repr(k) for k in self) or "none"
        raise AttributeError(f"the config has no key {name!r} (its keys: {keys})") from None

    def to_dict(self) -> dict[str, Any]:
        """A plain, mutable copy (nested dicts and lists included)."""
        return thaw(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ConfigValue, (dict(self),))

    def __copy__(self) -> ConfigValue:
        return self

    def __deepcopy__(self, memo: Any) -> ConfigValue:
        return self

    # --- immutability -------------------------------------------------------------------------
    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ReadOnlyConfig(
            "a config is read-only: copy it with .to_dict() and change the copy, or pass "
            "another config with --config / --config-value"
        )

    __setattr__ = _read_only
    __delattr__ = _read_only
    __setitem__ = _read_only
    __delitem__ = _read_only
    __ior__ = _read_only
    clear = _read_only
    pop = _read_only
    popitem = _read_only
    setdefault = _read_only
    update = _read_only
