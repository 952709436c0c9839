"""Error pages: not found (with the one-line reason), not allowed, and a generic server error."""

from __future__ import annotations

from headwater.ui.layout import Page
from headwater.ui.markup import render


def not_found_page(reason: str) -> Page:
    body = render(
        '<h1>Not found</h1><div class="error-box">{reason}</div>'
        '<p><a href="/">Back to the flows</a></p>',
        reason=reason,
    )
    return Page(title="Not found", body=body, crumbs=(("flows", "/"),), status=404)


def error_page(status: int, title: str, reason: str) -> Page:
    body = render(
        '<h1>{title}</h1><div class="error-box">{reason}</div>'
        '<p><a href="/">Back to the flows</a></p>',
        title=title,
        reason=reason,
    )
    return Page(title=title, body=body, crumbs=(("flows", "/"),), status=status)
