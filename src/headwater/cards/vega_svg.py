"""A static SVG drawing of simple Vega-Lite specs, so a chart shows without any JavaScript.

Cards never load Vega from a network (they must open offline) and headwater does not ship it,
so :class:`~headwater.cards.components.VegaChart` draws what it can itself: a single ``bar``,
``line``, ``point`` or ``area`` mark over inline ``data.values``, with an ``x`` and a
quantitative ``y`` field and no aggregation, transform, layer or colour grouping. For any
other spec :func:`vega_svg` returns None and the component shows the spec as readable JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

WIDTH, HEIGHT = 600, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 34, 56
MAX_POINTS = 5000
_MARKS = ("bar", "line", "point", "area", "circle", "tick")
_PLAIN_ENCODING = {"x", "y", "tooltip"}
_PLAIN_CHANNEL = {"field", "type", "title", "axis", "sort", "timeUnit", "scale", "bin"}


def _mark(spec: Mapping[str, Any]) -> str | None:
    mark = spec.get("mark")
    if isinstance(mark, Mapping):
        mark = mark.get("type")
    return mark if mark in _MARKS else None


def _title(spec: Mapping[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return str(title) if title else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks: list[float] = []
    t = start
    while t <= hi + step * 1e-9 and len(ticks) < 50:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 12))
    return ticks


def _fmt(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:.4g}"


def _short(label: str, n: int = 14) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def vega_svg(spec: Any) -> str | None:
    """An SVG of ``spec`` when it is a simple single-mark chart (see module doc), else None."""
    if not isinstance(spec, Mapping):
        return None
    mark = _mark(spec)
    enc = spec.get("encoding")
    data = spec.get("data")
    if mark is None or not isinstance(enc, Mapping) or not isinstance(data, Mapping):
        return None
    if any(k in spec for k in ("layer", "hconcat", "vconcat", "concat", "facet", "repeat")):
        return None
    if spec.get("transform") or set(enc) - _PLAIN_ENCODING:
        return None
    x, y = enc.get("x"), enc.get("y")
    if not isinstance(x, Mapping) or not isinstance(y, Mapping):
        return None
    if set(x) - _PLAIN_CHANNEL or set(y) - _PLAIN_CHANNEL or x.get("bin") or y.get("bin"):
        return None
    xf, yf = x.get("field"), y.get("field")
    values = data.get("values")
    if not isinstance(xf, str) or not isinstance(yf, str) or y.get("type") != "quantitative":
        return None
    if not isinstance(values, Sequence) or isinstance(values, (str, bytes)):
        return None
    if not 0 < len(values) <= MAX_POINTS:
        return None
    points: list[tuple[Any, float]] = []
    for row in values:
        if not isinstance(row, Mapping) or xf not in row:
            return None
        yv = _number(row.get(yf))
        if yv is None:
            return None
        points.append((row[xf], yv))
    return _draw(mark, points, x, y, xf, yf, _title(spec))


def _draw(
    mark: str,
    points: list[tuple[Any, float]],
    x: Mapping[str, Any],
    y: Mapping[str, Any],
    xf: str,
    yf: str,
    title: str,
) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    numeric_x = x.get("type") == "quantitative" and all(_number(p[0]) is not None for p in points)
    if mark == "bar":
        numeric_x = False
    ys = [p[1] for p in points]
    lo, hi = min(ys), max(ys)
    if mark in ("bar", "area"):
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    ticks = _nice_ticks(lo, hi)
    lo, hi = ticks[0], ticks[-1]

    def sy(v: float) -> float:
        return TOP + plot_h - (v - lo) / (hi - lo) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" font-family="sans-serif" font-size="11">'
    ]
    if title:
        parts.append(
            f'<text x="{WIDTH / 2:.0f}" y="18" text-anchor="middle" font-size="13" '
            f'font-weight="600">{escape(title)}</text>'
        )
    for t in ticks:
        ty = sy(t)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            'stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#59636e">'
            f"{escape(_fmt(t))}</text>"
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#59636e"/>'
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        'stroke="#59636e"/>'
    )
    if numeric_x:
        xs = [float(p[0]) for p in points]
        xlo, xhi = min(xs), max(xs)
        if xhi == xlo:
            xhi = xlo + 1
        xticks = _nice_ticks(xlo, xhi)
        xlo, xhi = xticks[0], xticks[-1]

        def sx(v: Any) -> float:
            return LEFT + (float(v) - xlo) / (xhi - xlo) * plot_w

        for t in xticks:
            parts.append(
                f'<text x="{sx(t):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                f'fill="#59636e">{escape(_fmt(t))}</text>'
            )
        ordered = sorted(points, key=lambda p: float(p[0]))
    else:
        cats = list(dict.fromkeys(str(p[0]) for p in points))
        band = plot_w / len(cats)
        where = {c: LEFT + band * (i + 0.5) for i, c in enumerate(cats)}

        def sx(v: Any) -> float:
            return where[str(v)]

        every = max(1, math.ceil(len(cats) / 12))
        for i, c in enumerate(cats):
            if i % every == 0:
                parts.append(
                    f'<text x="{where[c]:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                    f'fill="#59636e">{escape(_short(c))}</text>'
                )
        ordered = points
    if mark == "bar":
        cats_n = len({str(p[0]) for p in points})
        bw = max(1.0, plot_w / cats_n * 0.7)
        base = sy(max(lo, 0.0)) if lo < 0 else sy(lo)
        for xv, yv in points:
            top, bottom = sorted((sy(yv), base))
            parts.append(
                f'<rect x="{sx(xv) - bw / 2:.1f}" y="{top:.1f}" width="{bw:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}" fill="#4c78a8">'
                f"<title>{escape(str(xv))}: {escape(_fmt(yv))}</title></rect>"
            )
    else:
        coords = " ".join(f"{sx(xv):.1f},{sy(yv):.1f}" for xv, yv in ordered)
        if mark == "area":
            first, last = sx(ordered[0][0]), sx(ordered[-1][0])
            base = sy(max(lo, 0.0))
            parts.append(
                f'<polygon points="{first:.1f},{base:.1f} {coords} {last:.1f},{base:.1f}" '
                'fill="#4c78a8" fill-opacity="0.35" stroke="#4c78a8"/>'
            )
        elif mark == "line":
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="#4c78a8" stroke-width="2"/>'
            )
        if mark != "area" and len(ordered) <= 500:
            for xv, yv in ordered:
                parts.append(
                    f'<circle cx="{sx(xv):.1f}" cy="{sy(yv):.1f}" r="2.5" fill="#4c78a8">'
                    f"<title>{escape(str(xv))}: {escape(_fmt(yv))}</title></circle>"
                )
    xlabel = str(x.get("title") or xf)
    ylabel = str(y.get("title") or yf)
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 10}" text-anchor="middle" '
        f'font-weight="600">{escape(xlabel)}</text>'
        f'<text transform="translate(14 {TOP + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" font-weight="600">{escape(ylabel)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
