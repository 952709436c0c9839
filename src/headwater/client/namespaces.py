"""Namespaces: which runs the client shows. ``namespace()``, ``get_namespace()``,
``default_namespace()``.

A namespace is a tag; a run is visible when the namespace is among its tags (user or system),
and so are its steps, tasks and artifacts. ``None`` shows everything. The default,
``user:<username>``, is chosen at first use (never at import).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from headwater import config
from headwater.exceptions import NamespaceMismatch


class _Unset:
    """Marker: no namespace chosen yet (or, as an argument, "use the global one")."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()

_current: Any = UNSET


def namespace(ns: str | None) -> str | None:
    """Switch the namespace (``None``: see every run); returns it."""
    global _current
    if ns is not None and not isinstance(ns, str):
        raise TypeError(f"namespace() takes a tag string or None, got {ns!r}")
    _current = ns
    return ns


def get_namespace() -> str | None:
    """The namespace in use; the default (``user:<username>``) unless namespace() changed it."""
    if _current is UNSET:
        return default_namespace()
    return _current


def default_namespace() -> str:
    """Go back to the default namespace, ``user:<username>``, and return it."""
    global _current
    _current = f"user:{config.username()}"
    return _current


def resolve(ns: Any) -> str | None:
    """``ns`` when given explicitly (a string or None), else the global namespace."""
    return get_namespace() if ns is UNSET else ns


def check_visible(what: str, tags: Iterable[str], ns: Any = UNSET) -> None:
    """Raise NamespaceMismatch unless an object whose run has ``tags`` is visible in ``ns``."""
    ns = resolve(ns)
    tags = frozenset(tags)
    if ns is None or ns in tags:
        return
    owners = sorted(t for t in tags if t.startswith("user:"))
    hint = f"namespace({owners[0]!r}) or " if owners else ""
    raise NamespaceMismatch(
        f"{what} is not in namespace {ns!r}: use {hint}namespace(None) to see all runs"
    )
