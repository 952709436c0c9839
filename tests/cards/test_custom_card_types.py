"""Card types other than default and blank: Metaflow's taskspec_card, types registered in
code or declared by installed packages (entry points), cards updated while the task runs,
an unknown type, and Card.hash / Card.get_data()."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.cards import get_cards
from headwater.client import Flow, metadata, namespace

FLOWS = Path(__file__).resolve().parents[1] / "flows"


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("custom_cards") / ".headwater"
    # The folder holding the plugin's module and its dist-info is on the path, as an
    # installed package would be: its entry point declares plugin_card.
    env = dict(
        os.environ,
        HEADWATER_ROOT=str(root),
        HEADWATER_USER="tester",
        PYTHONPATH=os.pathsep.join([str(FLOWS / "cardplugin"), os.environ.get("PYTHONPATH", "")]),
    )
    proc = subprocess.run(
        [sys.executable, str(FLOWS / "custom_cards_flow.py"), "run"],
        capture_output=True,
        text=True,
        env=env,
        cwd=root.parent,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return root, re.search(r"Run (\d+) of", proc.stderr).group(1), proc


@pytest.fixture
def run(custom_run, client_state):
    root, run_id, _ = custom_run
    metadata(f"local@{root}")
    namespace(None)
    return Flow("CustomCardsFlow")[run_id]


@pytest.fixture
def start(run):
    return run["start"].task


def _card(task, card_type):
    (found,) = get_cards(task, type=card_type)
    return found


def test_taskspec_card_is_the_pathspec(start):
    assert _card(start, "taskspec_card").get() == start.pathspec


def test_a_registered_type_gets_options_components_and_the_task(start):
    html = _card(start, "progress_card").get()
    assert html == "<h1>Training</h1><p>final: yes (1)</p>"


def test_refresh_renders_a_runtime_updatable_card_and_keeps_its_data(start):
    assert start.data.runtime_rendered == "runtime 1"
    assert _card(start, "progress_card").get_data() == {"progress": 1}
    assert _card(start, "taskspec_card").get_data() is None


def test_a_type_from_an_entry_point(start):
    assert _card(start, "plugin_card").get() == (
        f"<p>plugin card of {start.pathspec} with [1, 2, 3]</p>"
    )


def test_an_unknown_type_gives_an_error_card_and_a_warning(start, custom_run):
    html = _card(start, "no_such_type").get()
    assert "unknown card type &#x27;no_such_type&#x27;" in html
    assert "taskspec_card" in html  # the known types are listed
    assert "@card(type='no_such_type'): no card type is named" in custom_run[2].stderr


def test_check_passes_with_an_unknown_card_type(hw_root, run_flow):
    proc = run_flow("custom_cards_flow.py", "check")
    assert proc.returncode == 0, proc.stderr


def test_card_hash_identifies_the_html(start):
    cards = list(get_cards(start))
    assert len({c.hash for c in cards}) == len(cards)
    again = get_cards(start, type="taskspec_card")[0]
    assert again.hash == _card(start, "taskspec_card").hash
    assert re.fullmatch(r"[0-9a-f]{40}", again.hash)


def test_save_errors_false_keeps_no_card_when_rendering_fails(run):
    ids = [c.id for c in get_cards(run["end"].task, type="broken_card")]
    assert ids == ["kept"]
    assert "this card type cannot render" in get_cards(run["end"].task, id="kept")[0].get()


def test_customize_makes_a_card_the_default_one(run):
    end = run["end"].task
    assert "to the customized card" in get_cards(end, id="chosen")[0].get()
    assert "to the customized card" not in get_cards(end, id="first")[0].get()


def test_card_cli_lists_as_json_and_picks_cards_by_hash(run, custom_run, tmp_path):
    import json

    root, run_id, _ = custom_run
    env = dict(os.environ, HEADWATER_ROOT=str(root), HEADWATER_USER="tester")
    flow = str(FLOWS / "custom_cards_flow.py")
    target = tmp_path / "cards.json"

    def cli(*args):
        proc = subprocess.run(
            [sys.executable, flow, "card", *args], capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, proc.stderr
        return proc

    cli("list", f"{run_id}/start", "--as-json", "--file", str(target))
    listed = json.loads(target.read_text())
    start = run["start"].task
    assert listed["pathspec"] == start.pathspec
    by_type = {c["type"]: c for c in listed["cards"]}
    taskspec = _card(start, "taskspec_card")
    assert by_type["taskspec_card"]["hash"] == taskspec.hash
    assert by_type["taskspec_card"]["filename"] == Path(taskspec.path).name
    got = cli("get", f"{run_id}/start", "--hash", taskspec.hash[:10])
    assert got.stdout == start.pathspec
