"""Fixtures for the card tests: golden files, and task facts made up for rendering."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_ENV = "HW_UPDATE_GOLDEN"

# 2024-03-01 12:00:00 UTC and three and a half seconds later
T0 = 1709294400.0


def normalise(html: str) -> str:
    """Replace what changes from run to run: ids, times, durations, versions."""
    html = re.sub(r'<time datetime="[^"]*">[^<]*</time>', '<time datetime="T">TIME</time>', html)
    html = re.sub(
        r'<span class="hw-duration">[^<]*</span>', '<span class="hw-duration">D</span>', html
    )
    html = re.sub(r"Rendered by headwater \S+( at [^<]*)?", "Rendered by headwater", html)
    html = re.sub(r"(\w+Flow)/\d+/(\w+)/\d+", r"\1/RUN/\2/TASK", html)
    html = re.sub(r"<th>(Run|Task)</th><td>\d+</td>", r"<th>\1</th><td>ID</td>", html)
    html = re.sub(r"python_version:[\w.+-]+", "python_version:X", html)
    return html


@pytest.fixture
def golden():
    """``golden(name, html)``: compare ``normalise(html)`` with tests/cards/golden/<name>;
    HW_UPDATE_GOLDEN=1 rewrites the file instead (review the HTML before committing it)."""

    def check(name: str, html: str) -> None:
        html = normalise(html)
        path = GOLDEN / name
        if os.environ.get(UPDATE_ENV) == "1":
            path.write_text(html, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}: run with {UPDATE_ENV}=1 to write it"
        expected = path.read_text(encoding="utf-8")
        assert html == expected, (
            f"{name} differs from its golden file; if the change is intended, rerun with "
            f"{UPDATE_ENV}=1 and review the diff"
        )

    return check


@pytest.fixture
def facts_factory():
    from headwater.cards.card_types import ArtifactEntry, TaskFacts

    def entry(name, value, size=100):
        return ArtifactEntry(name, type(value).__name__, size, lambda: value)

    def make(artifacts=None, parameters=None, **kw):
        graph = {
            "name": "DemoFlow",
            "start": "start",
            "end": "end",
            "steps": {
                "start": {"name": "start", "type": "start", "out_funcs": ["train"]},
                "train": {"name": "train", "type": "linear", "out_funcs": ["end"]},
                "end": {"name": "end", "type": "end", "out_funcs": []},
            },
        }
        base = dict(
            flow="DemoFlow",
            run_id="7",
            step="train",
            task_id="3",
            attempt=0,
            ok=True,
            started_at=T0,
            finished_at=T0 + 3.5,
            username="tester",
            tags=("user:tester",),
            parameters=tuple(entry(k, v) for k, v in (parameters or {}).items()),
            artifacts=artifacts
            if isinstance(artifacts, tuple)
            else tuple(entry(k, v) for k, v in (artifacts or {}).items()),
            graph=graph,
            rendered_at=T0 + 4,
        )
        base.update(kw)
        return TaskFacts(**base)

    make.entry = entry
    return make
