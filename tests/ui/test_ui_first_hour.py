"""What a new user looks for after a first run, a failure and a resume: the run's results on
its page, cloned tasks shown as cloned, parameters and resumes in the runs list, a join's
inputs apart, and DataFrame previews that fit the page."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from ui_helpers import FLOWS, flow_env, screenshot, start_server, stop_server

FLOW = "UiReportFlow"


def _command(root, *args, env=None):
    proc = subprocess.run(
        [sys.executable, str(FLOWS / "ui_report_flow.py"), *args],
        capture_output=True,
        text=True,
        env={**flow_env(root), **(env or {})},
        cwd=root.parent,
        timeout=120,
    )
    return proc


@pytest.fixture(scope="module")
def report_root(tmp_path_factory):
    """Run 1 fails in its join, run 2 resumes it, run 3 runs with --rows 7."""
    root = tmp_path_factory.mktemp("ui-first-hour") / ".headwater"
    assert _command(root, "run", env={"FAIL_JOIN": "1"}).returncode == 1
    resumed = _command(root, "resume")
    assert resumed.returncode == 0, resumed.stderr
    fresh = _command(root, "run", "--rows", "7")
    assert fresh.returncode == 0, fresh.stderr
    return root


@pytest.fixture(scope="module")
def report_ui(report_root):
    served = start_server(report_root)
    yield served
    stop_server(served)
    assert not served.errors, served.errors[0]


def _page(ui, path: str) -> str:
    status, _, body = ui.get(path)
    assert status == 200, body
    return body


def test_the_runs_list_shows_parameters_and_marks_resumed_runs(report_ui):
    body = _page(report_ui, f"/flow/{FLOW}")
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r'<tr><td class="nowrap"><a href="[^"]+">run (\d+)</a>.*?</tr>', body)
    }
    assert set(rows) == {"1", "2", "3"}
    assert "rows=7" in rows["3"] and "rows=5" in rows["1"]
    assert re.search(r'resumed from <a href="/run/UiReportFlow/1">run 1</a>', rows["2"])
    assert "resumed from" not in rows["1"] + rows["3"]


def test_the_run_page_shows_the_end_steps_artifacts(report_ui):
    body = _page(report_ui, f"/run/{FLOW}/3")
    results = body.split('<div id="results">', 1)[1].split("<h2>", 1)[0]
    assert 'id="artifact-summary"' in results
    assert "{&#x27;alpha&#x27;: 0.3, &#x27;mse&#x27;: 0.8927}" in results
    assert 'id="artifact-best_alpha"' in results
    failed = _page(report_ui, f"/run/{FLOW}/1")
    assert "The end step has not succeeded" in failed


def test_cloned_tasks_are_marked_with_their_origin_not_timed(report_ui):
    body = _page(report_ui, f"/run/{FLOW}/2")
    cloned = re.findall(r'<tr id="task-(\w+)-\d+" class="cloned">(.*?)</tr>', body)
    assert sorted(step for step, _ in cloned) == ["start", "train", "train", "train"]
    for _, row in cloned:
        assert re.search(
            r'cloned from <a href="/task/UiReportFlow/1/\w+/\d+">run 1, \w+/\d+</a>', row
        )
        assert 'class="bar' not in row
    ran = re.findall(r'<tr id="task-(\w+)-\d+">', body)
    assert sorted(ran) == ["end", "join"]
    assert "3 tasks cloned" in body  # the graph says so for the train step


def test_a_joins_inputs_are_listed_apart(report_ui):
    body = _page(report_ui, f"/run/{FLOW}/3")
    join_id = re.search(r'<tr id="task-join-(\d+)">', body).group(1)
    task = _page(report_ui, f"/task/{FLOW}/3/join/{join_id}")
    inputs = re.search(r'<ul class="inputs">(.*?)</ul>', task).group(1)
    labels = re.findall(
        r'<li><a href="[^"]+" title="UiReportFlow/3/train/\d+">(train/\d+)</a></li>', inputs
    )
    assert len(labels) == 3


@pytest.mark.e2e
@pytest.mark.slow
def test_a_wide_float_frame_fits_the_task_page(report_ui, page):
    page.goto(report_ui.url + f"run/{FLOW}/3")
    page.locator("#results").scroll_into_view_if_needed()
    screenshot(page, "run-results")
    page.get_by_role("link", name="start/1").click()
    frame = page.locator("#artifact-features table.hw-data")
    frame.wait_for()
    cells = frame.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells and all(re.fullmatch(r"\d+\.\d{1,4}", c) for c in cells), cells
    # The page itself does not scroll sideways; the table scrolls inside its cell.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    screenshot(page, "task-dataframe")
    page.goto(report_ui.url + f"run/{FLOW}/2")
    page.locator("tr.cloned").first.scroll_into_view_if_needed()
    screenshot(page, "run-resumed")
    page.goto(report_ui.url + f"flow/{FLOW}")
    screenshot(page, "runs-parameters")


@pytest.mark.e2e
@pytest.mark.slow
def test_the_card_shows_the_users_report_first_and_the_task_code(report_ui, page):
    page.goto(report_ui.url + f"run/{FLOW}/3")
    page.locator("tr[id^=task-join-] a").first.click()
    card = page.frame_locator("iframe.card")
    expect_sections = card.locator("section h2")
    expect_sections.first.wait_for()
    titles = expect_sections.all_inner_texts()
    assert titles[:2] == ["Report", "Task"] and "Task code" in titles, titles
    assert "def join(self, inputs):" in card.locator("#code pre").inner_text()
    page.locator("iframe.card").scroll_into_view_if_needed()
    screenshot(page, "task-card")
