"""Assembling a card page: the HTML skeleton, the inline stylesheet, sections and error boxes.

A card is one self-contained HTML file: the stylesheet is inline, there is no script, images
are ``data:`` URIs, and a Content-Security-Policy forbids scripts and any network fetch, so a
card opened from disk shows the same with or without a network, and a value that slipped
through escaping still could not run. Every function here takes already-safe HTML for its
``*_html`` arguments and escapes every other string.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterable
from html import escape

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'"

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --soft:#f6f8fa;
  --accent:#0969da; --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font:14px/1.5 -apple-system,"Segoe UI","Noto Sans",Helvetica,Arial,sans-serif; }
main { max-width:1100px; margin:0 auto; padding:24px 28px 40px; }
header.hw-head { border-bottom:1px solid var(--line); padding-bottom:12px; margin-bottom:8px; }
header.hw-head h1 { font-size:22px; margin:0 0 4px; font-weight:600; word-break:break-all; }
.hw-sub { color:var(--muted); }
h2.hw-h { font-size:16px; margin:28px 0 10px; padding-bottom:4px;
  border-bottom:1px solid var(--line); font-weight:600; }
h3.hw-name { font-size:14px; margin:0 0 2px; font-family:ui-monospace,SFMono-Regular,Menlo,
  Consolas,monospace; word-break:break-all; }
.hw-badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px;
  font-weight:600; color:#fff; vertical-align:middle; margin-left:6px; }
.hw-badge.ok { background:var(--ok); } .hw-badge.failed { background:var(--bad); }
.hw-meta, .hw-muted { color:var(--muted); font-size:12px; }
.hw-bad { color:var(--bad); }
.hw-meta { margin:2px 0 4px; }
code, pre, .hw-scalar { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
  font-size:13px; }
.hw-scalar, pre.hw-wrap { white-space:pre-wrap; word-break:break-word; }
pre { background:var(--soft); border:1px solid var(--line); border-radius:6px; padding:8px 10px;
  margin:4px 0; overflow:auto; max-height:480px; white-space:pre; }
:not(pre) > code { background:var(--soft); padding:1px 4px; border-radius:4px; }
table.hw-table { border-collapse:collapse; margin:4px 0; font-size:13px; }
table.hw-table th, table.hw-table td { border:1px solid var(--line); padding:3px 8px;
  text-align:left; vertical-align:top; }
table.hw-table thead th { background:var(--soft); font-weight:600; }
table.hw-data td { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
  white-space:pre; }
tr.hw-dtypes th { font-weight:400; color:var(--muted); font-size:11px; }
th.hw-index { color:var(--muted); font-weight:400; }
table.hw-kv th { background:var(--soft); font-weight:600; width:1%; white-space:nowrap; }
.hw-scroll { overflow:auto; max-width:100%; }
.hw-artifact { padding:10px 0; border-bottom:1px solid var(--line); }
.hw-artifact:last-child { border-bottom:none; }
.hw-component { margin:10px 0; }
.hw-table .hw-component { margin:0; }
.hw-md > :first-child { margin-top:0; } .hw-md > :last-child { margin-bottom:0; }
.hw-error { border:1px solid var(--bad); background:#ffebe9; border-radius:6px;
  padding:8px 12px; margin:10px 0; }
.hw-error .hw-error-title { color:var(--bad); font-weight:600; }
.hw-error pre { background:#fff; }
.hw-notice { border:1px solid var(--warn); background:#fff8c5; border-radius:6px;
  padding:8px 12px; margin:10px 0; }
.hw-progress .hw-track { background:var(--soft); border:1px solid var(--line);
  border-radius:6px; height:14px; overflow:hidden; max-width:600px; }
.hw-progress .hw-fill { background:var(--accent); height:100%; }
.hw-image img { max-width:100%; height:auto; border:1px solid var(--line); }
.hw-caption { color:var(--muted); font-size:12px; }
.hw-graph svg { max-width:100%; height:auto; }
.hw-md h1 { font-size:20px; } .hw-md h2 { font-size:17px; } .hw-md h3 { font-size:15px; }
.hw-md blockquote { margin:6px 0; padding:0 12px; color:var(--muted);
  border-left:3px solid var(--line); }
.hw-md a, a { color:var(--accent); }
details summary { cursor:pointer; color:var(--muted); font-size:12px; }
footer { margin-top:32px; color:var(--muted); font-size:12px; border-top:1px solid var(--line);
  padding-top:8px; }
"""


def page(title: str, body_html: str, footer: str | None = None) -> str:
    """A whole card: ``title`` (escaped) in the tab, ``body_html`` (already safe) inside."""
    foot = f"<footer>{escape(footer)}</footer>" if footer else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="headwater">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body_html}\n{foot}\n</main>\n</body>\n</html>\n"
    )


def header(title: str, subtitle: str | None = None, badge: tuple[str, str] | None = None) -> str:
    """The card's heading; ``badge`` is (css class, text), e.g. ("ok", "succeeded")."""
    mark = f' <span class="hw-badge {escape(badge[0])}">{escape(badge[1])}</span>' if badge else ""
    sub = f'<div class="hw-sub">{escape(subtitle)}</div>' if subtitle else ""
    return f'<header class="hw-head"><h1>{escape(title)}{mark}</h1>{sub}</header>'


def section(title: str, body_html: str, anchor: str | None = None) -> str:
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f'<section{ident}><h2 class="hw-h">{escape(title)}</h2>\n{body_html}\n</section>'


def kv_table(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table: each row is (label, safe HTML)."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="hw-table hw-kv"><tbody>{body}</tbody></table>'


def error_box(title: str, detail: str | None = None) -> str:
    """A red box with a one-line ``title`` and an optional ``detail`` (a traceback...)."""
    more = f"<pre>{escape(detail)}</pre>" if detail else ""
    return (
        f'<div class="hw-error" role="alert"><div class="hw-error-title">{escape(title)}</div>'
        f"{more}</div>"
    )


def notice(text: str) -> str:
    return f'<div class="hw-notice">{escape(text)}</div>'


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def exception_text(ex: BaseException) -> str:
    """The exception and its traceback, without the leading frames inside headwater itself
    (the runtime or card code that called the user's code)."""
    tb = ex.__traceback__
    while tb is not None and tb.tb_next is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep):
            break
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(ex), ex, tb))
