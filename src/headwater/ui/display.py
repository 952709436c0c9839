"""How values look on a page: times, durations, byte sizes and status badges."""

from __future__ import annotations

import datetime as dt

from headwater.ui.markup import Markup, render


def when(ts: float | None) -> str:
    """Local time ``2024-05-01 12:03:04``; an em dash when unknown."""
    if ts is None:
        return "—"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    """``850 ms``, ``12.3 s``, ``4m 05s``, ``2h 03m``; an em dash when unknown."""
    if seconds is None:
        return "—"
    seconds = max(seconds, 0.0)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def span(start: float | None, end: float | None, now: float) -> float | None:
    """Seconds from ``start`` to ``end`` (to ``now`` while still going)."""
    if start is None:
        return None
    return (end if end is not None else now) - start


def size(n: int | None) -> str:
    """``512 B``, ``1.5 KB``, ``3.2 MB``."""
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def badge(status: str) -> Markup:
    """A coloured status label; the status also names its CSS class."""
    return render('<span class="badge st-{s}">{s}</span>', s=status)
