"""Import every built-in step decorator so ``--with NAME`` can find it."""

from __future__ import annotations


def load() -> None:
    from headwater.plugins import (  # noqa: F401
        card,
        catch,
        environment,
        project,  # a flow decorator: --branch, --production
        r_step,  # @r: a step written in R
        resources,
        retry,
        timeout,
    )
