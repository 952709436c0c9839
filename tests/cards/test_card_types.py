"""Card types rendered from task facts: default and blank (golden files), options, and what a
card becomes when rendering fails or runs over its timeout."""

from __future__ import annotations

import re
import threading

import numpy as np
import pandas as pd

from headwater.cards import Error, Markdown, ProgressBar, Table
from headwater.cards.card_types import (
    MAX_PREVIEW_BYTES,
    ArtifactEntry,
    render_blank,
    render_card,
    render_default,
)
from headwater.cards.components import CardComponent


def _rich_artifacts():
    return {
        "frame": pd.DataFrame({"id": np.arange(12), "score": np.linspace(0, 1, 12)}),
        "weights": np.arange(6, dtype=np.float64).reshape(2, 3),
        "label": "<b>not bold</b>",
        "config": {"lr": 0.01, "layers": [64, 32], "opt": {"name": "adam"}},
    }


def test_default_card_golden(facts_factory, golden):
    facts = facts_factory(
        artifacts=_rich_artifacts(), parameters={"alpha": 0.5, "name": "<script>x</script>"}
    )
    html = render_default(facts, [Markdown("## Report\n\nall *good*")])
    golden("default_card.html", html)


def test_default_card_puts_the_users_report_first_and_shows_the_task_code(facts_factory):
    facts = facts_factory(artifacts={"x": 1}, ok=False, exception="ValueError: no")
    facts.source = "@step\ndef start(self):\n    self.x = '<b>' + 1\n"
    html = render_default(facts, [Markdown("## Mine")])
    sections = re.findall(r'<section id="(\w+)">', html)
    assert sections[:6] == ["report", "error", "task", "parameters", "artifacts", "code"]
    code = html.split('<section id="code">')[1].split("</section>")[0]
    assert "Task code" in code
    assert "def start(self):\n    self.x = &#x27;&lt;b&gt;&#x27; + 1" in code
    facts.source = None  # a flow typed into an interpreter: no source to show
    assert 'id="code"' not in render_default(facts, [])


def test_blank_card_golden_with_every_component(facts_factory, golden):
    spec = {
        "mark": "line",
        "data": {"values": [{"x": i, "y": (i - 3) ** 2} for i in range(7)]},
        "encoding": {
            "x": {"field": "x", "type": "quantitative"},
            "y": {"field": "y", "type": "quantitative"},
        },
    }
    from headwater.cards import Artifact, VegaChart

    components = [
        Markdown("# Components\n\n- a *list*\n- [a link](https://example.org)"),
        Table([[1, "one"], [2, Markdown("**two**")]], headers=["n", "name"]),
        Table.from_dataframe(pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", "y"], name="k"))),
        Artifact([1, 2, 3], name="numbers"),
        VegaChart(spec),
        ProgressBar(max=4, label="epochs", value=3),
        Error("something went wrong"),
    ]
    golden("blank_card.html", render_blank(facts_factory(), components))


def test_blank_card_shows_only_components(facts_factory):
    html = render_blank(facts_factory(artifacts={"secret_x": 1}), [Markdown("only me")])
    assert "only me" in html
    assert "secret_x" not in html and "Flow graph" not in html and "Parameters" not in html


def test_default_card_sections(facts_factory):
    html = render_default(facts_factory(artifacts={"x": 1}), [])
    for title in ("Task", "Parameters", "Artifacts", "Flow graph"):
        assert f'<h2 class="hw-h">{title}</h2>' in html
    assert "Report" not in html  # no components appended
    assert "This flow has no parameters." in html
    assert '<th>Duration</th><td><span class="hw-duration">3.50 s</span>' in html


def test_default_card_of_a_failed_task_shows_the_error(facts_factory):
    facts = facts_factory(ok=False, exception="Traceback ...\nValueError: <bad>")
    html = render_default(facts, [])
    assert '<span class="hw-badge failed">failed</span>' in html
    assert "ValueError: &lt;bad&gt;" in html


def test_default_card_options(facts_factory):
    facts = facts_factory(artifacts={"a": 1, "b": 2, "c": 3})
    html = render_default(facts, [], {"include": ["a", "b"], "exclude": ["b"], "hide_graph": True})
    assert 'id="artifact-a"' in html
    assert 'id="artifact-b"' not in html and 'id="artifact-c"' not in html
    assert "Flow graph" not in html
    df = pd.DataFrame({"v": range(30)})
    html = render_default(facts_factory(artifacts={"df": df}), [], {"max_rows": 25})
    assert "first 25 of 30 rows shown" in html


def test_huge_artifacts_are_not_loaded(facts_factory):
    def never():
        raise AssertionError("a huge artifact was loaded")

    big = ArtifactEntry("big", "bytes", MAX_PREVIEW_BYTES + 1, never)
    html = render_default(facts_factory(artifacts=(big,)), [])
    assert "too big to preview" in html


def test_an_artifact_that_cannot_be_loaded_shows_an_error(facts_factory):
    def broken():
        raise OSError("blob missing")

    entry = ArtifactEntry("gone", "int", 10, broken)
    html = render_default(facts_factory(artifacts=(entry,)), [])
    assert "could not load gone: OSError: blob missing" in html
    assert "Flow graph" in html  # the rest of the card is there


def test_each_artifact_is_loaded_once_for_all_cards(facts_factory):
    calls = []

    def load():
        calls.append(1)
        return 5

    facts = facts_factory(artifacts=(ArtifactEntry("x", "int", 1, load),))
    render_default(facts, [])
    render_default(facts, [])
    assert len(calls) == 1


def test_a_renderer_that_raises_gives_an_error_card(facts_factory):
    bad_options = {"max_rows": "lots"}  # int("lots") fails inside the renderer
    html = render_card("default", facts_factory(artifacts={"x": 1}), [], bad_options, 10)
    assert "This card could not be rendered: ValueError" in html
    assert "DemoFlow/7/train/3" in html


def test_rendering_past_the_timeout_gives_a_timeout_card(facts_factory):
    release = threading.Event()

    class Slow(CardComponent):
        def render(self):
            release.wait(10)
            return "late"

    try:
        html = render_card("blank", facts_factory(), [Slow()], {}, timeout=0.2)
    finally:
        release.set()
    assert "took longer than its timeout of 0.2 seconds" in html
    assert "late" not in html


def test_unknown_type_gives_an_error_card(facts_factory):
    html = render_card("fancy", facts_factory(), [], {}, 5)
    assert "unknown card type &#x27;fancy&#x27;" in html


def test_cards_are_self_contained(facts_factory):
    html = render_default(facts_factory(artifacts=_rich_artifacts()), [Markdown("x")])
    assert "Content-Security-Policy" in html and "default-src &#x27;none&#x27;" not in html
    assert "default-src 'none'" in html
    for forbidden in ("<script", "<link", "@import"):
        assert forbidden not in html
    # nothing is fetched: no remote src/href/url() (marker-end="url(#arrow)" is local)
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html)
    assert not re.search(r"url\(\s*[\"']?\s*(https?:)?//", html)
