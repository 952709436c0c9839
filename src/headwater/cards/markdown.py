"""A safe subset of Markdown, rendered to HTML with every character of the input escaped.

Supported: ATX headings (``#`` to ``######``), paragraphs, ``**bold**``/``__bold__``,
``*italic*``/``_italic_``, ``~~strike~~``, inline ``code``, fenced code blocks (```),
bulleted (``-``, ``*``, ``+``) and numbered (``1.``) lists, nested by indentation, block
quotes (``>``), horizontal rules (``---``) and links ``[text](url)``. Anything else, raw HTML
included, is shown as text: the input is escaped first and markup is added around escaped text
only. Links keep only ``http``, ``https``, ``mailto`` and relative URLs (``javascript:`` and
friends become plain text); an image ``![alt](src)`` is shown only when ``src`` is an inline
``data:image/...`` URI, since a card must open without the network.
"""

from __future__ import annotations

import re
from html import escape, unescape

_FENCE = re.compile(r"^\s{0,3}(```|~~~)\s*([\w+.-]*)\s*$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_ITEM = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*([^)\s]+)\s*\)")
_URL = r"([^()\s]*(?:\([^()\s]*\)[^()\s]*)*)"  # one level of balanced parentheses
_LINK = re.compile(r"\[([^\]]+)\]\(\s*" + _URL + r"(?:\s+&quot;[^)]*&quot;)?\s*\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)(.+?)(?<=\S)\*(?!\*)|(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_TOKEN = re.compile("\x00(\\d+)\x00")

_SAFE_SCHEMES = ("http", "https", "mailto")
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$")


def render_markdown(text: str) -> str:
    """HTML for ``text``; never raises for any string."""
    lines = str(text).replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "".join(_blocks(lines))


# --- blocks -------------------------------------------------------------------------------------


def _blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(f"<p>{inline(' '.join(s.strip() for s in para))}</p>")
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush()
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith(fence.group(1)):
                end += 1
            code = escape("\n".join(lines[i + 1 : end]))
            lang = f' class="language-{escape(fence.group(2))}"' if fence.group(2) else ""
            out.append(f"<pre><code{lang}>{code}</code></pre>")
            i = end + 1
            continue
        if not line.strip():
            flush()
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
            i += 1
            continue
        if _RULE.match(line):
            flush()
            out.append("<hr>")
            i += 1
            continue
        if _QUOTE.match(line):
            flush()
            quoted = []
            while i < len(lines) and (m := _QUOTE.match(lines[i])):
                quoted.append(m.group(1))
                i += 1
            out.append(f"<blockquote>{''.join(_blocks(quoted))}</blockquote>")
            continue
        if _ITEM.match(line):
            flush()
            end = i
            while end < len(lines) and lines[end].strip() and _list_line(lines[end], lines[i]):
                end += 1
            out.append(_list(lines[i:end]))
            i = end
            continue
        para.append(line)
        i += 1
    flush()
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _list_line(line: str, first: str) -> bool:
    """True when ``line`` continues a list that started with ``first``."""
    return bool(_ITEM.match(line)) or _indent(line) > _indent(first)


def _list(lines: list[str]) -> str:
    """A list (and its nested lists) from lines that all belong to it."""
    base = _indent(lines[0])
    ordered = _ITEM.match(lines[0]).group(2)[0].isdigit()  # type: ignore[union-attr]
    items: list[tuple[str, list[str]]] = []
    for line in lines:
        m = _ITEM.match(line)
        if m and _indent(line) <= base:
            items.append((m.group(3), []))
        elif items:
            items[-1][1].append(line)
        else:  # cannot happen: the first line is an item
            items.append((line.strip(), []))
    parts = []
    for text, children in items:
        nested = ""
        if children and _ITEM.match(children[0]):
            nested = _list(children)
        elif children:
            text = " ".join([text, *(c.strip() for c in children)])
        parts.append(f"<li>{inline(text)}{nested}</li>")
    tag = "ol" if ordered else "ul"
    return f"<{tag}>{''.join(parts)}</{tag}>"


# --- inline -------------------------------------------------------------------------------------


def safe_url(url: str) -> str | None:
    """``url`` when it is http(s), mailto or relative; None for any other scheme."""
    clean = "".join(ch for ch in url if ch > " " and ch != "\x7f")
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", clean)
    if scheme and scheme.group(1).lower() not in _SAFE_SCHEMES:
        return None
    return clean


def inline(text: str) -> str:
    """Escape ``text`` and add inline markup (code, images, links, emphasis)."""
    tokens: list[str] = []

    def keep(html: str) -> str:
        tokens.append(html)
        return f"\x00{len(tokens) - 1}\x00"

    def code(m: re.Match[str]) -> str:
        return keep(f"<code>{escape(m.group(2).strip())}</code>")

    text = _CODE_SPAN.sub(code, text.replace("\x00", ""))
    # Escape everything outside code spans, then add markup around the escaped text.
    pieces = re.split("(\x00\\d+\x00)", text)
    text = "".join(p if _TOKEN.fullmatch(p) else escape(p) for p in pieces)

    def image(m: re.Match[str]) -> str:
        alt, src = m.group(1), unescape(m.group(2))
        if _DATA_IMAGE.match(src):
            return keep(f'<img src="{escape(src)}" alt="{alt}">')
        return keep(f"<span>{alt}</span>")

    def link(m: re.Match[str]) -> str:
        label, url = m.group(1), safe_url(unescape(m.group(2)))
        if url is None:
            return keep(_emphasis(label))
        return keep(f'<a href="{escape(url)}" rel="noopener noreferrer">{_emphasis(label)}</a>')

    text = _IMAGE.sub(image, text)
    text = _LINK.sub(link, text)
    text = _emphasis(text)
    for _ in range(3):  # tokens may hold tokens (a link whose label has code)
        text = _TOKEN.sub(lambda m: tokens[int(m.group(1))], text)
    return text


def _emphasis(text: str) -> str:
    text = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    text = _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)
    return _STRIKE.sub(lambda m: f"<del>{m.group(1)}</del>", text)
