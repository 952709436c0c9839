"""``card get|list|view`` end to end on a real run, and their one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test runs flows and card commands

FLOW = "card_cli_flow.py"


@pytest.fixture
def card_run(run_flow):
    proc = run_flow(FLOW, "run")
    assert proc.returncode == 0, proc.stderr
    return re.search(r"Run (\d+) of \w+ completed", proc.stderr).group(1)


def _one_line_error(proc) -> str:
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_list_shows_each_card_of_a_task_with_type_id_and_path(run_flow, card_run, hw_root):
    proc = run_flow(FLOW, "card", "list", f"{card_run}/start")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"CardCliFlow/{card_run}/start/1 (attempt 0):"
    rows = [line.split() for line in lines[1:]]
    assert [r[:2] for r in rows] == [["default", "-"], ["blank", "notes"]]
    for row in rows:
        path = Path(row[2])
        assert path.is_file()
        assert path.parent == hw_root / "CardCliFlow" / card_run / "start" / "1" / "0" / "cards"


def test_list_every_task_of_a_step(run_flow, card_run):
    proc = run_flow(FLOW, "card", "list", f"{card_run}/work")
    assert proc.returncode == 0, proc.stderr
    headers = [line for line in proc.stdout.splitlines() if not line.startswith(" ")]
    assert len(headers) == 2 and all("/work/" in h for h in headers)
    assert len(re.findall(r"^\s+default\s+-\s", proc.stdout, re.M)) == 2


def test_list_filters_by_type_and_id(run_flow, card_run):
    proc = run_flow(FLOW, "card", "list", f"{card_run}/start", "--type", "blank")
    assert proc.returncode == 0
    assert "notes" in proc.stdout and "default" not in proc.stdout


def test_get_writes_html_to_stdout_choosing_the_first_card(run_flow, card_run):
    proc = run_flow(FLOW, "card", "get", f"{card_run}/start")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("<!DOCTYPE html>")
    assert "default card text" in proc.stdout
    assert "Flow graph" in proc.stdout
    # two cards: the first declared is written and the others are named
    assert "2 cards" in proc.stderr and "--type or --id" in proc.stderr


def test_get_by_id_to_a_file_given_after_the_options(run_flow, card_run, tmp_path):
    out = tmp_path / "notes.html"
    proc = run_flow(FLOW, "card", "get", f"{card_run}/start/1", "--id", "notes", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert "<h1>Notes</h1>" in html and "<strong>start</strong>" in html
    assert "Flow graph" not in html  # a blank card shows only its components
    assert proc.stdout == ""


def test_get_by_type_with_the_full_pathspec(run_flow, card_run, tmp_path):
    out = tmp_path / "card.html"
    proc = run_flow(
        FLOW, "card", "get", f"CardCliFlow/{card_run}/start/1", str(out), "--type", "default"
    )
    assert proc.returncode == 0, proc.stderr
    assert "default card text" in out.read_text()


def test_parameter_html_is_escaped_in_the_card(run_flow, card_run):
    proc = run_flow(FLOW, "card", "get", f"{card_run}/start", "--type", "default")
    assert "<img src=x" not in proc.stdout
    assert "&lt;img src=x onerror=alert(1)&gt;" in proc.stdout


def test_view_writes_a_temp_copy_and_prints_its_path(run_flow, card_run):
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}  # no display: nothing is opened
    proc = run_flow(FLOW, "card", "view", f"{card_run}/start", "--id", "notes", env=env)
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip())
    try:
        assert path.is_file() and path.suffix == ".html"
        assert "<h1>Notes</h1>" in path.read_text()
        assert path.as_uri() in proc.stderr
    finally:
        path.unlink(missing_ok=True)


def test_unknown_run_step_or_task_is_a_one_line_error(run_flow, card_run):
    assert "run 99" in _one_line_error(run_flow(FLOW, "card", "get", "99/start"))
    assert "nope" in _one_line_error(run_flow(FLOW, "card", "list", f"{card_run}/nope"))
    assert "task 77" in _one_line_error(run_flow(FLOW, "card", "view", f"{card_run}/start/77"))
    assert "malformed" in _one_line_error(run_flow(FLOW, "card", "get", "start"))


def test_no_card_is_a_one_line_error(run_flow, card_run):
    line = _one_line_error(run_flow(FLOW, "card", "get", f"{card_run}/end"))
    assert "has no card" in line and "@card" in line
    line = _one_line_error(run_flow(FLOW, "card", "list", f"{card_run}/end"))
    assert "no card" in line
    line = _one_line_error(run_flow(FLOW, "card", "get", f"{card_run}/start", "--id", "zzz"))
    assert "no card with id 'zzz'" in line


def test_get_on_a_step_with_several_tasks_asks_for_one(run_flow, card_run):
    line = _one_line_error(run_flow(FLOW, "card", "get", f"{card_run}/work"))
    assert "2 tasks" in line and "RUN/STEP/TASK" in line


def test_with_card_gives_every_step_a_default_card(run_flow):
    proc = run_flow("linear.py", "--with", "card", "run")
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\d+) of \w+ completed", proc.stderr).group(1)
    for step in ("start", "end"):
        proc = run_flow("linear.py", "card", "list", f"{run_id}/{step}")
        assert proc.returncode == 0, proc.stderr
        assert re.search(r"^\s+default\s+-\s+\S+0-default\.html$", proc.stdout, re.M)
