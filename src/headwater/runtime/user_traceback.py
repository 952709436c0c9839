"""The report of a failure inside step code: the user's frames, not headwater's.

A step's exception travels through headwater's own frames: the task runner that called the
step, the binding that raised ``ArtifactNotFound`` for ``inputs[0].test_mes``. Those frames say
nothing to the person who wrote the step; the frames of their own code (file, line, source
line) do. :func:`failure_report` keeps every frame outside the headwater package (the flow
file, the user's modules, pandas...) and drops headwater's, unless debugging is on (``--debug``
or ``HEADWATER_DEBUG=1``), when every frame is shown.

When no frame of the failure is the user's, a headwater error (a user mistake headwater caught
outside the step, such as a missing ``self.next``) is its one-line headline, and anything else
is a bug in headwater and keeps its whole traceback.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from traceback import FrameSummary

HIDDEN_NOTE = "headwater's frames hidden, --debug shows them"
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _package_dir() -> str:
    import headwater

    return os.path.dirname(os.path.abspath(headwater.__file__)) + os.sep


def _chain(ex: BaseException) -> list[tuple[BaseException, str]]:
    """The exceptions of ``ex``'s chain, oldest first, each with the text printed after it."""
    out: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    link = ""  # ``ex`` itself comes last, with nothing after it
    current: BaseException | None = ex
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append((current, link))
        if current.__cause__ is not None:
            link, current = _CAUSE, current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            link, current = _CONTEXT, current.__context__
        else:
            current = None
    return out[::-1]


def _exception_lines(ex: BaseException) -> list[str]:
    import traceback

    lines = traceback.format_exception_only(type(ex), ex)
    prefix = "headwater.exceptions."
    if lines and lines[0].startswith(prefix):  # ArtifactNotFound, as the headline names it
        lines[0] = lines[0][len(prefix) :]
    return lines


def _frames(ex: BaseException) -> list[FrameSummary]:
    import traceback

    return list(traceback.extract_tb(ex.__traceback__))


def failure_report(ex: BaseException, debug: bool = False) -> str:
    """The text a failed step leaves in its stderr and in its attempt's record: a traceback
    ending with the ``Type: message`` line(s) (see the module docstring)."""
    import traceback

    own = getattr(ex, "failure_report", None)  # an error of another language's code (R)
    if callable(own) and not debug:
        return own()
    if debug:
        return "".join(traceback.format_exception(type(ex), ex, ex.__traceback__))
    ours = _package_dir()
    chain = _chain(ex)
    user_frames = any(not f.filename.startswith(ours) for e, _ in chain for f in _frames(e))
    if not user_frames:
        from headwater.exceptions import HeadwaterException

        if isinstance(ex, HeadwaterException):
            return "".join(_exception_lines(ex))
        return "".join(traceback.format_exception(type(ex), ex, ex.__traceback__))
    parts: list[str] = []
    for e, link in chain:
        frames = _frames(e)
        kept = [f for f in frames if not f.filename.startswith(ours)]
        if kept:
            hidden = len(kept) < len(frames)
            head = f"Traceback (most recent call last; {HIDDEN_NOTE}):\n" if hidden else None
            parts.append(head or "Traceback (most recent call last):\n")
            parts.extend(traceback.StackSummary.from_list(kept).format())
        parts.extend(_exception_lines(e))
        parts.append(link)
    return "".join(parts)
