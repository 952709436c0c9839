"""@card on real runs: what the cards of a task hold, get_cards, escaping of user content,
failures that must not fail the task, timeouts, resume, and bad decorator arguments."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.exceptions import ClientError, InvalidFlow

pytestmark = pytest.mark.slow  # every test runs a flow with cards

FLOWS = Path(__file__).resolve().parents[1] / "flows"


def _run(root: Path, flow: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HEADWATER_ROOT=str(root), HEADWATER_USER="tester")
    env.pop("HEADWATER_DEBUG", None)
    return subprocess.run(
        [sys.executable, str(FLOWS / flow), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=root.parent,
        timeout=120,
    )


@pytest.fixture(scope="module")
def card_flow_root(tmp_path_factory):
    """One run of card_flow.py (pandas, numpy, every component), shared by this module."""
    root = tmp_path_factory.mktemp("cards") / ".headwater"
    proc = _run(root, "card_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def client(card_flow_root, monkeypatch):
    monkeypatch.setenv("HEADWATER_ROOT", str(card_flow_root))
    from headwater import Flow, namespace

    namespace(None)
    yield Flow("CardFlow").latest_run
    from headwater.client import default_namespace

    namespace(default_namespace())


def _task(run, step):
    return next(iter(run[step]))


def test_get_cards_lists_the_cards_of_a_task_in_declaration_order(client):
    from headwater.cards import get_cards

    cards = get_cards(_task(client, "start"))
    assert len(cards) == 2
    assert [(c.type, c.id) for c in cards] == [("default", None), ("blank", "summary")]
    assert all(Path(c.path).is_file() for c in cards)
    assert cards[0].html.startswith("<!DOCTYPE html>") and cards[0].get() == cards[0].html
    assert [c.id for c in get_cards(_task(client, "start"), id="summary")] == ["summary"]
    assert [c.type for c in get_cards(_task(client, "start"), type="default")] == ["default"]
    assert len(get_cards(_task(client, "middle"))) == 0  # no @card: no cards, no error
    by_pathspec = get_cards(_task(client, "start").pathspec)
    assert [c.path for c in by_pathspec] == [c.path for c in cards]
    assert "<iframe" in cards._repr_html_() and "srcdoc=" in cards[1]._repr_html_()
    with pytest.raises(ClientError, match="takes a Task or a pathspec"):
        get_cards(42)


def test_default_card_of_a_task_with_rich_artifacts(client, golden):
    from headwater.cards import get_cards

    html = get_cards(_task(client, "start"), type="default")[0].html
    assert "DataFrame · 25 rows × 3 columns" in html
    assert "<th>int64</th><th>float64</th><th>bool</th>" in html
    assert "ndarray · shape (3, 4) · dtype int64" in html
    assert "str · 3,400 characters" in html and "cut to fit" in html
    assert "dict · 2 keys" in html and "&#x27;layers&#x27;: [64, 32]" in html
    assert '<h2 class="hw-h">Parameters</h2>' in html and "<th>alpha</th>" in html
    assert "<h1>Hello</h1>" in html  # the component appended to the default card
    assert '<g class="hw-step hw-current"><title>start' in html
    golden("card_flow_start_default.html", html)


def test_blank_card_with_an_id_holds_only_its_components(client, golden):
    from headwater.cards import get_cards

    html = get_cards(_task(client, "start"), id="summary")[0].html
    assert "<h2>Summary</h2>" in html
    assert "Flow graph" not in html and "frame" not in html.split("<main>")[1][:200]
    assert "7 / 10 (70%)" in html  # ProgressBar.update before the task ended
    assert html.count("<rect") == 2  # the VegaChart bars
    golden("card_flow_start_summary.html", html)


def test_no_user_content_is_left_unescaped(client):
    """XSS: an artifact, a parameter and markdown all hold <script>alert(1)</script>."""
    from headwater.cards import get_cards

    for step in ("start", "end"):
        for card in get_cards(_task(client, step)):
            html = card.html
            assert "<script>alert" not in html
            assert "<script" not in html.replace(
                '<script type="application/vnd.vegalite+json">', ""
            )
            assert "<b>bold</b>" not in html
    start = get_cards(_task(client, "start"), type="default")[0].html
    assert start.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # artifact, param, md


def test_a_failing_component_shows_an_error_and_the_task_succeeds(client, golden):
    from headwater.cards import get_cards

    end = _task(client, "end")
    assert end.successful and client.successful
    html = get_cards(end)[0].html
    assert "_Broken could not be rendered: RuntimeError: this component is broken" in html
    before, after = html.index("before the broken one"), html.index("after the broken one")
    assert before < html.index("_Broken could not be rendered") < after
    html = re.sub(r"<pre>Traceback.*?</pre>", "<pre>TRACEBACK</pre>", html, flags=re.S)
    golden("card_flow_end_default.html", html)


def test_a_failed_step_still_gets_a_card_showing_its_error(tmp_path, monkeypatch):
    root = tmp_path / ".headwater"
    proc = _run(root, "card_fail_flow.py", "run", "--mode", "fail")
    assert proc.returncode == 1
    monkeypatch.setenv("HEADWATER_ROOT", str(root))
    from headwater.cards import get_cards
    from headwater.client import Task

    task = Task("CardFailFlow/1/start/1", _namespace_check=False)
    assert not task.successful
    html = get_cards(task)[0].html
    assert '<span class="hw-badge failed">failed</span>' in html
    assert "ValueError: the step failed &lt;on purpose&gt;" in html
    assert "raise ValueError(&quot;the step failed" in html  # the user's frame
    assert "runtime/task.py" not in html  # not headwater's
    assert "saved before the failure" in html and "appended before the failure" in html


def test_a_card_that_renders_too_long_records_a_timeout(tmp_path, monkeypatch):
    root = tmp_path / ".headwater"
    proc = _run(root, "card_fail_flow.py", "run", "--mode", "slow")
    assert proc.returncode == 0, proc.stderr
    monkeypatch.setenv("HEADWATER_ROOT", str(root))
    from headwater.cards import get_cards

    html = get_cards("CardFailFlow/1/start/1")[0].html
    assert "took longer than its timeout of 1 second" in html
    assert "too late" not in html


def test_resumed_clones_show_the_cards_of_their_origin(tmp_path, monkeypatch):
    root = tmp_path / ".headwater"
    assert _run(root, "card_cli_flow.py", "run").returncode == 0
    proc = _run(root, "card_cli_flow.py", "resume", "end", "--origin-run-id", "1")
    assert proc.returncode == 0, proc.stderr
    monkeypatch.setenv("HEADWATER_ROOT", str(root))
    from headwater import Run
    from headwater.cards import get_cards

    start = next(iter(Run("CardCliFlow/2", _namespace_check=False)["start"]))
    assert start.origin_pathspec == "CardCliFlow/1/start/1"
    cards = get_cards(start)
    assert cards.from_resumed and cards.origin_pathspec == "CardCliFlow/1/start/1"
    assert [c.id for c in cards] == [None, "notes"]
    assert "/CardCliFlow/1/start/" in cards[0].path
    assert len(get_cards(start, follow_resumed=False)) == 0


def test_components_reach_a_card_attached_with_dash_dash_with(tmp_path, monkeypatch):
    root = tmp_path / ".headwater"
    assert _run(root, "card_with_flow.py", "run").returncode == 0  # no card: no current.card
    proc = _run(root, "card_with_flow.py", "--with", "card", "run")
    assert proc.returncode == 0, proc.stderr
    monkeypatch.setenv("HEADWATER_ROOT", str(root))
    from headwater.cards import get_cards

    assert len(get_cards("CardWithFlow/1/start/1")) == 0
    cards = get_cards("CardWithFlow/2/start/1")
    assert [(c.type, c.id, c.index) for c in cards] == [("default", None, 0)]
    assert "added through <strong>--with card</strong>" in cards[0].html


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "Fancy-Card"}, "a card type is a name of lowercase letters"),
        ({"id": "a b"}, "an id is 1 to 100 letters"),
        ({"options": "x"}, "takes a dict"),
        ({"options": {"colour": 1}}, "has no option 'colour'"),
        ({"type": "blank", "options": {"include": ["x"]}}, "its options: none"),
        ({"timeout": 0}, "positive number of seconds"),
        ({"size": 3}, "@card has no argument 'size'"),
    ],
)
def test_bad_arguments_are_flow_errors(kwargs, message):
    from headwater.plugins.card import CardDecorator

    with pytest.raises(InvalidFlow, match=re.escape(message)):
        CardDecorator(kwargs)


def test_current_card_is_none_outside_a_task():
    from headwater import current

    assert current.card is None
