"""Argument checks every metadata store applies the same way (SQLite, PostgreSQL, the service):
names that become datastore keys and pathspecs, attempts, statuses, system tags."""

from __future__ import annotations

from headwater.exceptions import MetadataError, TagError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Sequence
    from enum import Enum
    from typing import Any, TypeVar

    E = TypeVar("E", bound=Enum)  # a status (RunStatus, TaskStatus): a (str, Enum) to checkers


def canonical_number(text: str) -> bool:
    """Whether ``text`` is a number written the one way ``str(int)`` writes it ("0", "12")."""
    return text.isascii() and text.isdigit() and (text == "0" or text[0] != "0")


def coerce(kind: type[E], value: Any) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise MetadataError(f"{value!r} is not a {kind.__name__}: use one of {allowed}") from None


def is_valid_name(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value not in ("", ".", "..")
        and "/" not in value
        and "\\" not in value
        and "\0" not in value
    )


def check_name(what: str, value: Any) -> str:
    """A flow, run, step or task name: non-empty, not '.' or '..', no '/', '\\' or NUL (it
    becomes part of datastore keys and pathspecs)."""
    if not is_valid_name(value):
        raise MetadataError(
            f"{what} {value!r} is not valid: use a non-empty name without '/', '\\' or NUL, "
            "other than '.' and '..'"
        )
    return value


def check_pathspec(what: str, value: Any) -> str:
    """A task pathspec ``Flow/run/step/task`` (parents, origins): four valid names."""
    parts = value.split("/") if isinstance(value, str) else ()
    if len(parts) != 4 or not all(is_valid_name(p) for p in parts):
        raise MetadataError(
            f"{what} {value!r} is not valid: use Flow/run/step/task, each part a non-empty "
            "name without '\\' or NUL, other than '.' and '..'"
        )
    return value


def check_parents(parents: str | Sequence[str]) -> tuple[str, ...]:
    """The parents of a task as a tuple of checked pathspecs (one string is one parent)."""
    items = (parents,) if isinstance(parents, str) else tuple(parents)
    for p in items:
        check_pathspec("parent pathspec", p)
    return items


def check_attempt(attempt: Any) -> int:
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise MetadataError(f"attempt {attempt!r} is not valid: attempts are numbered 0, 1, 2, ...")
    return attempt


def check_system_tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise TagError(f"system tag {tag!r} is not valid: system tags are non-empty text")
        if tag not in out:
            out.append(tag)
    return out


def check_tags_to_remove(tags: Iterable[str]) -> list[str]:
    """Tags asked to be removed: text, and none of them a system tag."""
    from headwater.core.tags import is_system_tag

    out = list(tags)
    for tag in out:
        if not isinstance(tag, str):
            raise TagError(f"tag {tag!r} is not a string: tags are text")
        if is_system_tag(tag):
            raise TagError(f"tag {tag!r} is a system tag and cannot be removed")
    return out
