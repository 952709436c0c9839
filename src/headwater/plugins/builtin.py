"""Import every built-in step decorator so ``--with NAME`` can find it."""

from __future__ import annotations


def load() -> None:
    from headwater.plugins import (  # noqa: F401
        card,
        catch,
        environment,
        parallel,
        project,  # a flow decorator: --branch, --production
        resources,
        retry,
        secrets,
        timeout,
    )
