"""Running a step function inside its user step decorators (``func.wrappers``).

Each decorator, outermost first, gets ``pre_step``; it may let what it wraps run, run another
function instead, or skip it. Then, innermost first, ``post_step`` sees the exception of what
it wrapped (or None) and decides what goes on: raise it, swallow it, raise another, and
possibly call ``self.next`` on the step's behalf.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def run_wrapped(
    wrappers: Sequence[Any],
    step_name: str,
    flow: Any,
    inputs: Any,
    call_step: Callable[[], None],
    call_next: Callable[[Mapping[str, Any]], None],
) -> None:
    """Run ``call_step`` inside ``wrappers`` (outermost first).

    ``call_next(kwargs)`` replaces whatever ``self.next`` the step recorded with its usual
    call, updated by ``kwargs``. It is used when a decorator skipped the step, when a
    replacement function asked for it (returned True or a dict), when a post_step returned
    next arguments, and when an exception of the step was swallowed (the step never reached
    its ``self.next``).
    """
    entered: list[Any] = []
    replacement: Any = None
    next_args: Any = None
    for deco in wrappers:
        deco.skip_step = False
        replacement = deco.pre_step(step_name, flow, inputs)
        entered.append(deco)
        if deco.skip_step:
            next_args = deco.skip_step
            break
        if replacement is not None:
            break
    error: BaseException | None = None
    raised = False
    try:
        if next_args is None:
            if replacement is None:
                call_step()
            else:
                outcome = replacement(flow) if inputs is None else replacement(flow, inputs)
                next_args = outcome or None
    except Exception as ex:  # noqa: BLE001 - the decorators' post_step decide
        error = ex
        raised = True
    for deco in reversed(entered):
        try:
            verdict = deco.post_step(step_name, flow, error)
        except Exception as ex:  # noqa: BLE001 - raised in post_step: it goes on outwards
            verdict = ex
        if verdict is None:
            error = None
        elif isinstance(verdict, BaseException):
            error = verdict
        elif isinstance(verdict, tuple) and len(verdict) == 2:
            error = verdict[0]
            if verdict[1] is not None:  # None: keep what inner layers decided
                next_args = verdict[1]
        elif isinstance(verdict, tuple) and len(verdict) > 2:
            raise verdict[2]
        else:
            raise TypeError(
                f"{deco!r}: post_step returned {verdict!r}; return None, an exception, or "
                "(exception, self.next arguments)"
            )
    if error is not None:
        raise error
    if next_args is False:
        next_args = None
    if next_args is not None or raised:
        if next_args is True or next_args is None:
            next_args = {}
        if not isinstance(next_args, Mapping):
            raise TypeError(
                f"self.next arguments from a custom decorator of step '{step_name}' must be "
                f"True or a dict, not {next_args!r}"
            )
        call_next(next_args)
