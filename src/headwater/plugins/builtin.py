"""Import every built-in step decorator so ``--with NAME`` can find it."""

from __future__ import annotations


def load() -> None:
    from headwater.plugins import card, catch, environment, resources, retry, timeout  # noqa: F401
