"""HTML built from templates that escape every value unless it is already :class:`Markup`.

``render("<a href='{url}'>{name}</a>", url=..., name=...)`` escapes ``url`` and ``name``;
fragments built by ``render`` (or marked with :class:`Markup`) are inserted as they are, so
pages compose fragments without escaping twice and user text can never become markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import quote, urlencode

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


class Markup(str):
    """A string of trusted HTML: inserted into templates without escaping."""

    __slots__ = ()


def escape(value: Any) -> Markup:
    """``value`` as HTML text (quotes escaped too, so it is safe in attributes)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


class _Escaping(Mapping[str, Markup]):
    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Markup:
        return escape(self._values[key])

    def __iter__(self) -> Iterator[str]:  # pragma: no cover - format_map only uses __getitem__
        return iter(self._values)

    def __len__(self) -> int:  # pragma: no cover
        return len(self._values)


def render(template: str, **values: Any) -> Markup:
    """Fill ``{name}`` placeholders of a trusted template with escaped values."""
    return Markup(template.format_map(_Escaping(values)))


def join(parts: Iterable[Any], sep: str = "") -> Markup:
    """Concatenate fragments, escaping any that are not Markup."""
    return Markup(sep.join(escape(p) for p in parts))


def url(*segments: str, **query: Any) -> str:
    """``/seg1/seg2?k=v``: each segment percent-encoded (so a name can never add a path part).

    A query value that is a list or tuple repeats the key; ``None`` values are left out.
    """
    path = "/" + "/".join(quote(str(s), safe="") for s in segments)
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return path + ("?" + urlencode(pairs) if pairs else "")
