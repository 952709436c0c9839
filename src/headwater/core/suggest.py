"""``did you mean 'test_mse'?``: the nearest known names to a misspelt one.

Used by every error that names something unknown (an artifact, a step, a parameter, an
option), so a typo gets its fix in the same line.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

CUTOFF = 0.6  # difflib's similarity ratio a suggestion needs


def close_match(word: str, known: Iterable[str]) -> str | None:
    """The known name nearest to ``word``, if one is close; compared ignoring case, leading
    dashes (of options), and ``-`` and ``_`` as the same character."""
    import difflib

    def norm(name: str) -> str:
        return name.lower().lstrip("-").replace("-", "_")

    by_norm: dict[str, str] = {}
    for name in known:
        by_norm.setdefault(norm(name), name)
    target = norm(word)
    if target in by_norm:  # the same name in another case or with other separators
        return by_norm[target] if by_norm[target] != word else None
    found = difflib.get_close_matches(target, list(by_norm), 1, CUTOFF)
    return by_norm[found[0]] if found else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``did you mean 'test_mse'?``, or an empty string when no known name is close."""
    found = close_match(word, known)
    return f"did you mean '{found}'?" if found else ""
