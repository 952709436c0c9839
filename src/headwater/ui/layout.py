"""The page shell: head with the inline stylesheet, breadcrumbs, the live-update script."""

from __future__ import annotations

from headwater.record import Record
from headwater.ui.assets import CSS, SCRIPT
from headwater.ui.markup import Markup, join, render

FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    "%3Cpath d='M2 12 Q8 2 14 12' fill='none' stroke='%231f6feb' stroke-width='3'/%3E%3C/svg%3E"
)


class Page(Record):
    """What a page handler returns: a title, crumbs (label, url or None), the body.

    ``poll`` is the JSON URL a live page polls (``None``: the page is not live); ``version``
    is the fingerprint the page was rendered at. ``body`` goes inside ``<div id="live">``,
    the part a live page swaps.
    """

    title: str
    body: Markup
    crumbs: tuple[tuple[str, str | None], ...] = ()
    poll: str | None = None
    version: str | None = None
    status: int = 200


def _crumbs(crumbs: tuple[tuple[str, str | None], ...]) -> Markup:
    parts = []
    for label, href in crumbs:
        if href is None:
            parts.append(render("<span>{label}</span>", label=label))
        else:
            parts.append(render('<a href="{href}">{label}</a>', href=href, label=label))
    return join(parts, sep='<span class="sep">›</span>')


def render_page(page: Page, nonce: str) -> Markup:
    """The whole HTML document; the script carries the response's CSP nonce."""
    live_attrs = Markup("")
    if page.poll:
        live_attrs = render(
            ' data-poll="{p}" data-version="{v}"', p=page.poll, v=page.version or ""
        )
    return render(
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{title} · headwater</title>"
        '<link rel="icon" href="{favicon}">'
        "<style>{css}</style></head>"
        "<body{live_attrs}>"
        '<header class="top"><a class="brand" href="/">headwater</a>'
        '<nav>{crumbs}</nav><span class="live-flag">● live</span></header>'
        '<main><div id="live">{body}</div></main>'
        '<script nonce="{nonce}">{script}</script>'
        "</body></html>\n",
        title=page.title,
        favicon=FAVICON,
        css=Markup(CSS),
        live_attrs=live_attrs,
        crumbs=_crumbs(page.crumbs),
        body=page.body,
        nonce=nonce,
        script=Markup(SCRIPT),
    )
