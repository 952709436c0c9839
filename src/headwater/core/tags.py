"""Rules for run tags: user tags are free text within limits; system tags are protected."""

from __future__ import annotations

from headwater.exceptions import TagError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

MAX_USER_TAGS = 50
MAX_TAG_LENGTH = 500
SYSTEM_TAG_PREFIXES = ("user:", "runtime:", "python_version:", "project:", "project_branch:")


def is_system_tag(tag: str) -> bool:
    return tag.startswith(SYSTEM_TAG_PREFIXES)


def validate_user_tags(tags: Iterable[str]) -> list[str]:
    """Check tags a user asks to add; returns them as a list, in order, without duplicates."""
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise TagError(f"tag {tag!r} is not a string: tags are text")
        if not tag.strip():
            raise TagError("a tag cannot be empty or only spaces")
        if len(tag) > MAX_TAG_LENGTH:
            raise TagError(
                f"tag {tag[:40]!r}... is {len(tag)} characters long: the limit is "
                f"{MAX_TAG_LENGTH}, shorten it"
            )
        if is_system_tag(tag):
            raise TagError(
                f"tag {tag!r} looks like a system tag ({', '.join(SYSTEM_TAG_PREFIXES)}): "
                "choose a tag without that prefix"
            )
        if tag not in out:
            out.append(tag)
    return out


def check_user_tag_count(tags: Iterable[str]) -> None:
    n = len(set(tags))
    if n > MAX_USER_TAGS:
        raise TagError(
            f"a run can have at most {MAX_USER_TAGS} user tags; this would give it {n}: "
            "use fewer tags, or remove some first"
        )
