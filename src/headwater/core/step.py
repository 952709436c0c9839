"""The ``@step`` marker and the base of step decorators stacked above it."""

from __future__ import annotations

from collections.abc import Callable

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, TypeVar, overload

    F = TypeVar("F", bound=Callable[..., Any])
else:  # typing is not imported at run time: flow files import this module first

    def overload(func):
        return func


def is_step(func: Any) -> bool:
    return callable(func) and getattr(func, "is_step", False) is True


@overload
def step(f: F) -> F: ...


@overload
def step(*, start: bool = False, end: bool = False) -> Callable[[F], F]: ...  # noqa: F811


def step(f: Any = None, *, start: bool = False, end: bool = False) -> Any:  # noqa: F811 (overloads)
    """Mark a method of a FlowSpec as a step.

    ``@step`` alone, or ``@step(start=True)`` / ``@step(end=True)`` to make a step with another
    name the entry or exit of the flow. Step decorators (``@retry`` ...) stack above ``@step``
    and record themselves in ``func.decorators``.
    """

    def mark(func: F) -> F:
        if not callable(func):
            raise TypeError("@step decorates a method of a FlowSpec")
        func.is_step = True  # type: ignore[attr-defined]
        func.name = func.__name__  # type: ignore[attr-defined]  # as Metaflow's steps have
        func.step_role = "start" if start else "end" if end else None  # type: ignore[attr-defined]
        if not hasattr(func, "decorators"):
            func.decorators = []  # type: ignore[attr-defined]
        return func

    if f is not None:
        return mark(f)
    return mark
