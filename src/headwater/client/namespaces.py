"""Namespaces: which runs the client shows. ``namespace()``, ``get_namespace()``,
``default_namespace()``.

A namespace is a tag; a run is visible when the namespace is among its tags (user or system),
and so are its steps, tasks and artifacts. ``None`` shows everything. The default,
``user:<username>``, is chosen at first use (never at import). Inside a running task the
default is the run's namespace instead: ``run --namespace NS`` (``''`` for every run), else
``user:<username>``, as ``current.namespace`` shows.
"""

from __future__ import annotations

from headwater import config
from headwater.exceptions import NamespaceMismatch

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable
    from typing import Any


class _Unset:
    """Marker: no namespace chosen yet (or, as an argument, "use the global one")."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()

_current: Any = UNSET


def namespace(ns: str | None) -> str | None:
    """Switch the namespace (``None``, or ``''`` as on the command line: see every run);
    returns it."""
    global _current
    if ns is not None and not isinstance(ns, str):
        raise TypeError(f"namespace() takes a tag string or None, got {ns!r}")
    _current = ns or None
    return _current


def get_namespace() -> str | None:
    """The namespace in use: the one namespace() chose, else the default (``user:<username>``,
    or inside a task the namespace the run was started with)."""
    if _current is UNSET:
        from headwater.core.current import current

        if current.is_running_flow:
            return current.namespace
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


def _hint(owner_tags: Iterable[str]) -> str:
    owners = sorted(t for t in owner_tags if t.startswith("user:"))
    return f"namespace({owners[0]!r}) or " if owners else ""


def check_visible(what: str, tags: Iterable[str], ns: Any = UNSET) -> None:
    """Raise NamespaceMismatch unless an object whose run has ``tags`` is visible in ``ns``."""
    ns = resolve(ns)
    tags = frozenset(tags)
    if ns is None or ns in tags:
        return
    raise NamespaceMismatch(
        f"{what} is not in namespace {ns!r}: use {_hint(tags)}namespace(None) to see all runs"
    )


def flow_not_visible(flow: str, ns: str, newest_run_tags: Iterable[str]) -> NamespaceMismatch:
    """The error for ``Flow(flow)`` when none of its runs is in namespace ``ns``."""
    return NamespaceMismatch(
        f"flow {flow!r} has no run in namespace {ns!r}: use {_hint(newest_run_tags)}"
        "namespace(None) to see all runs"
    )
