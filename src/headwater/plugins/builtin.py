"""Import every built-in step decorator so ``--with NAME`` can find it."""

from __future__ import annotations


def load() -> None:
    from headwater.plugins import (  # noqa: F401
        card,
        catch,
        environment,
        events,  # flow decorators: @trigger, @trigger_on_finish
        kubernetes,
        project,  # a flow decorator: --branch, --production
        resources,
        retry,
        schedule,  # a flow decorator
        timeout,
    )
