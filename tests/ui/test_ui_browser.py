"""The UI in a real headless Chromium: click from the flow list to a run, to a task, open its
card and logs; watch a run finish without reloading; user HTML and script shown as text.

Screenshots of the main pages go to test-artifacts/screenshots/ at the repository root.
"""

from __future__ import annotations

import time

import pytest
from ui_helpers import PAYLOAD, XSS_TAG, screenshot, start_flow_file, start_server, stop_server

from headwater.core.ids import AttemptPath
from headwater.metadata_store.sqlite import SqliteMetadata
from headwater.stores import open_datastore

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a real Chromium

CARD = """<!doctype html><html><body><h1>Report card</h1><p id="s">static</p>
<script>document.getElementById('s').textContent = 'card script ran'; alert('card');</script>
</body></html>"""


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def test_click_from_flows_to_run_to_task_and_its_card(ui, store_root, page):
    ds = open_datastore("local", str(store_root))
    ds.write_card(AttemptPath("LinearFlow", "1", "end", "3", 0), "default.html", CARD)

    page.goto(ui.url)
    expect(page.locator("h1")).to_have_text("Flows")
    screenshot(page, "flows")
    page.get_by_role("link", name="LinearFlow", exact=True).click()
    expect(page.locator("h1")).to_have_text("LinearFlow")
    expect(page.locator("table.runs tbody tr")).to_have_count(2)
    screenshot(page, "runs")

    page.get_by_role("link", name="nightly").click()  # a tag chip filters the list
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    page.get_by_role("link", name="clear filters").click()
    page.get_by_role("link", name="run 1", exact=True).click()
    expect(page.locator("h1")).to_contain_text("LinearFlow run 1")
    graph = page.locator(".graph svg")
    expect(graph).to_be_visible()
    expect(graph.locator("g.node")).to_have_count(3)
    expect(graph.locator("g.node.st-succeeded")).to_have_count(3)
    expect(page.locator("table.timeline tr[id^=task-]")).to_have_count(3)
    screenshot(page, "run")

    page.locator("#task-end-3").get_by_role("link", name="end/3").click()
    expect(page.locator("h1")).to_contain_text("end/3")
    expect(page.locator("#artifact-y .value")).to_have_text("4")
    expect(page.locator("#artifact-x .value")).to_have_text("2")
    frame = page.frame_locator("iframe.card")
    expect(frame.locator("h1")).to_have_text("Report card")
    expect(frame.locator("#s")).to_have_text("card script ran")  # scripts run, sandboxed
    page.locator("iframe.card").scroll_into_view_if_needed()
    screenshot(page, "task")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="open card").click()
    card_page = opened.value
    expect(card_page.locator("h1")).to_have_text("Report card")
    card_page.close()


def test_click_to_a_failed_task_shows_its_exception_and_logs(ui, page):
    page.goto(ui.url)
    page.get_by_role("link", name="FailingFlow", exact=True).click()
    page.get_by_role("link", name="run 1", exact=True).click()
    expect(page.locator(".graph g.node.st-failed")).to_have_count(1)
    expect(page.locator(".graph g.node.st-not-run")).to_have_count(1)
    page.locator(".graph a", has=page.locator("g.node.st-failed")).click()
    expect(page.locator("h1")).to_contain_text("boom/2")
    expect(page.locator("#exception")).to_have_text("ValueError: bad value 42")
    expect(page.locator("#log-stderr")).to_contain_text("ValueError: bad value 42")
    expect(page.locator("#log-stdout")).to_have_text("No stdout output.")
    page.get_by_text("traceback", exact=True).click()
    expect(page.locator("#tb-0 pre")).to_contain_text("raise ValueError")
    screenshot(page, "task-failed")
    with page.context.expect_page() as opened:
        page.locator("h3", has_text="stderr").get_by_role("link", name="raw").click()
    raw = opened.value
    raw.wait_for_load_state()
    assert "ValueError: bad value 42" in raw.locator("body").inner_text()
    raw.close()


def test_a_running_run_updates_until_it_finishes(tmp_path, browser, page):
    root = tmp_path / ".headwater"
    proc = start_flow_file(root, "ui_slow_flow.py", "--pause", "0.8")
    served = None
    try:
        md = SqliteMetadata(root / "metadata.db")
        deadline = time.time() + 60
        while (root / "metadata.db").exists() is False or md.latest_run("UiSlowFlow") is None:
            assert time.time() < deadline, "the run never started"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        md.close()
        served = start_server(root)
        page.goto(served.url + "run/UiSlowFlow/1")
        status = page.locator("#live dl.kv dd").first
        expect(status).to_have_text("running")
        expect(page.locator("header .live-flag")).to_be_visible()
        page.evaluate("window.__notReloaded = true")
        expect(page.locator(".graph g.node.st-running").first).to_be_visible(timeout=30_000)
        screenshot(page, "run-live-running")
        expect(status).to_have_text("completed", timeout=60_000)
        expect(page.locator(".graph g.node", has_text="3/3 tasks done")).to_have_count(1)
        expect(page.locator(".graph g.node.st-succeeded")).to_have_count(4)
        expect(page.locator("table.timeline tr[id^=task-]")).to_have_count(6)
        expect(page.locator("header .live-flag")).to_be_hidden()
        assert page.evaluate("window.__notReloaded") is True  # updated in place
        screenshot(page, "run-live-finished")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        if served is not None:
            stop_server(served)
            assert not served.errors, served.errors[0]


def _no_injected_elements(page) -> None:
    injected = page.evaluate(
        "document.querySelectorAll('#live script, #live img, #live b, #live i').length"
    )
    assert injected == 0
    assert page.locator("script").count() == 1  # only the UI's own


def test_html_and_script_in_user_content_show_as_text(ui, page, store_root):
    ds = open_datastore("local", str(store_root))
    ds.write_card(
        AttemptPath("UiXssFlow", "1", "start", "1", 0), "evil.html", CARD
    )  # a card's own alert() is blocked by the sandbox

    page.goto(ui.url + "flow/UiXssFlow")
    expect(page.get_by_text(XSS_TAG, exact=True).first).to_be_visible()
    _no_injected_elements(page)
    page.get_by_role("link", name=XSS_TAG).click()  # filter by the HTML tag
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    _no_injected_elements(page)

    page.get_by_role("link", name="run 1", exact=True).click()
    params = page.locator("table.params")
    expect(params).to_contain_text(PAYLOAD)
    expect(page.locator(".kv")).to_contain_text(XSS_TAG)
    _no_injected_elements(page)

    page.get_by_role("link", name="start/1").click()
    expect(page.locator("#artifact-html .value")).to_have_text(PAYLOAD)
    expect(page.locator("#artifact-nested .value")).to_contain_text(repr(PAYLOAD))
    expect(page.locator("#artifact-frame table.hw-data")).to_contain_text(PAYLOAD[:40])
    expect(page.locator("#artifact-frame table.hw-data")).to_contain_text("<i>col</i>")
    expect(page.locator("#log-stdout")).to_have_text(f"out {PAYLOAD}\n")
    expect(page.locator("#log-stderr")).to_have_text(f"err {PAYLOAD}\n")
    expect(page.frame_locator("iframe.card").locator("#s")).to_have_text("card script ran")
    _no_injected_elements(page)
    page.locator("iframe.card").scroll_into_view_if_needed()
    screenshot(page, "xss-task")

    page.goto(ui.url + "task/UiXssFlow/2/end/2")
    expect(page.locator("#exception")).to_have_text(f"ValueError: {PAYLOAD}")
    _no_injected_elements(page)
    time.sleep(0.3)  # give any injected handler time to fire a dialog (the fixture checks)


@pytest.mark.parametrize("path", ["run/LinearFlow/77", "nowhere"])
def test_unknown_pages_show_a_not_found_page(ui, page, path):
    response = page.goto(ui.url + path)
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    page.get_by_role("link", name="Back to the flows").click()
    expect(page.locator("h1")).to_have_text("Flows")
