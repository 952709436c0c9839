"""The UI server against a store made by running real flows: pages, links, 404s, 405s, the
live-status API, cards, and escaping of every kind of user content."""

from __future__ import annotations

import html
import re

import pytest
from ui_helpers import PAYLOAD, XSS_TAG, start_server, stop_server

from headwater.core.ids import AttemptPath
from headwater.stores import open_datastore


def test_flows_page_lists_each_flow_with_its_latest_run(ui):
    status, headers, body = ui.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for flow in ("LinearFlow", "ForeachFlow", "FailingFlow", "UiXssFlow"):
        assert f'href="/flow/{flow}"' in body
    assert '<a href="/run/LinearFlow/2">run 2</a>' in body
    row = re.search(r'href="/flow/FailingFlow".*?</tr>', body).group(0)
    assert "st-failed" in row


def test_runs_page_filters_by_tag_and_status(ui):
    _, _, body = ui.get("/flow/LinearFlow")
    assert "run 2" in body and "run 1" in body
    assert body.index("run 2") < body.index("run 1")  # newest first
    _, _, tagged = ui.get("/flow/LinearFlow?tag=nightly")
    assert "run 2" in tagged and "run 1</a>" not in tagged
    _, _, failed = ui.get("/flow/UiXssFlow?status=failed")
    assert "run 2" in failed and "run 1</a>" not in failed
    _, _, none = ui.get("/flow/LinearFlow?tag=nope")
    assert "No runs match." in none


def test_run_page_draws_the_saved_graph_with_task_counts(ui):
    status, _, body = ui.get("/run/ForeachFlow/1")
    assert status == 200
    assert "<svg" in body and "3/3 tasks done" in body
    assert body.count('class="edge foreach"') == 1  # start -> square
    assert body.count('<tr id="task-') == 6  # the timeline lists every task
    assert 'href="/task/ForeachFlow/1/join/5"' in body
    assert "<body data-poll" not in body  # a finished run is not polled


def test_failed_run_shows_the_failed_step_and_steps_never_reached(ui):
    _, _, body = ui.get("/run/FailingFlow/1")
    assert 'class="node st-failed"' in body
    assert re.search(r'class="node st-not-run"><title>end: not run', body)
    assert "how" in body and "&#x27;raise&#x27;" in body  # the parameter and its value


def test_task_page_shows_artifacts_logs_and_attempts(ui):
    _, _, body = ui.get("/task/LinearFlow/1/end/3")
    assert 'id="artifact-x"' in body and 'id="artifact-y"' in body
    assert re.search(r'id="artifact-y">.*?<span class="hw-scalar">4</span>', body)
    assert "attempt 0</strong> (shown)" in body
    assert "loading artifacts " in body and "saving artifacts " in body  # task metadata
    _, _, failed = ui.get("/task/FailingFlow/1/boom/2")
    assert "ValueError: bad value 42" in failed
    assert 'id="exception"' in failed and "<summary>traceback</summary>" in failed
    _, _, xss = ui.get("/task/UiXssFlow/1/start/1")
    assert "DataFrame · 2 rows × 2 columns" in xss
    assert "ndarray · shape (3, 4) · dtype int64" in xss
    assert 'id="log-stdout"' in xss and 'id="log-stderr"' in xss


@pytest.mark.parametrize(
    "path",
    [
        "/flow/Nope",
        "/run/Nope/1",
        "/run/LinearFlow/99",
        "/task/LinearFlow/1/start/99",
        "/task/LinearFlow/1/nostep/1",
        "/task/LinearFlow/1/start/1?attempt=7",
        "/task/LinearFlow/1/start/1?attempt=x",
        "/task/LinearFlow/1/start",
        "/nothing/here",
        "/log/LinearFlow/1/start/1/0/passwd",
        "/card/LinearFlow/1/start/1/0/..%2F..%2Findex.json",
        "/card/LinearFlow/1/start/1/0/nocard.html",
        "/api/run/LinearFlow/99",
        "/run/LinearFlow/%2E%2E",
    ],
)
def test_unknown_things_give_a_404_page(ui, path):
    status, headers, body = ui.get(path)
    assert status == 404, body
    assert headers["Content-Type"].startswith("text/html")
    assert "<h1>Not found</h1>" in body and "Traceback" not in body


def test_404_page_escapes_the_name_it_was_given(ui):
    status, _, body = ui.get("/run/%3Cscript%3Ealert(1)%3C%2Fscript%3E/1")
    assert status == 404
    assert "<script>alert" not in body and "&lt;script&gt;alert(1)" in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head_are_allowed(ui, method):
    status, headers, body = ui.get("/", method=method)
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert "read-only" in body


def test_head_sends_headers_without_a_body(ui):
    status, headers, body = ui.get("/run/LinearFlow/1", method="HEAD")
    assert status == 200 and body == "" and int(headers["Content-Length"]) > 1000


def test_pages_carry_a_script_nonce_policy(ui):
    _, headers, body = ui.get("/")
    csp = headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in body
    assert body.count("<script") == 1
    assert "default-src 'none'" in csp and headers["X-Content-Type-Options"] == "nosniff"
    _, headers2, _ = ui.get("/")
    assert headers2["Content-Security-Policy"] != csp  # a new nonce every time


def test_live_status_api(ui):
    data = ui.json("/api/run/ForeachFlow/1")
    assert data["status"] == "completed" and data["done"] is True
    assert ui.json("/api/run/ForeachFlow/1")["version"] == data["version"]
    task = ui.json("/api/task/FailingFlow/1/boom/2")
    assert task == {"status": "failed", "done": True, "version": task["version"]}
    _, _, body = ui.get("/run/ForeachFlow/1")
    assert f'data-version="{data["version"]}"' not in body  # finished pages do not poll


def test_raw_logs_are_plain_text_in_a_sandbox(ui):
    status, headers, body = ui.get("/log/UiXssFlow/1/start/1/0/stdout")
    assert status == 200 and body == f"out {PAYLOAD}\n"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "sandbox" in headers["Content-Security-Policy"]


def _all_pages(ui) -> dict[str, str]:
    paths = [
        "/",
        "/flow/UiXssFlow",
        "/flow/UiXssFlow?tag=" + XSS_TAG.replace("<", "%3C").replace(">", "%3E"),
        "/run/UiXssFlow/1",
        "/run/UiXssFlow/2",
        "/task/UiXssFlow/1/start/1",
        "/task/UiXssFlow/2/end/2",
    ]
    pages = {}
    for path in paths:
        status, _, body = ui.get(path)
        assert status == 200, (path, body)
        pages[path] = body
    return pages


def test_user_content_is_escaped_everywhere(ui):
    pages = _all_pages(ui)
    for path, body in pages.items():
        assert "<script>alert" not in body, path
        assert "<img src=x" not in body, path
        assert "<b>bold</b>" not in body and "<b>tag</b>" not in body, path
    escaped_tag = html.escape(XSS_TAG)
    assert escaped_tag in pages["/flow/UiXssFlow"]  # a tag
    assert escaped_tag in pages["/run/UiXssFlow/1"]
    assert html.escape(repr(PAYLOAD)) in pages["/run/UiXssFlow/1"]  # a parameter value
    start = pages["/task/UiXssFlow/1/start/1"]
    assert html.escape(f"out {PAYLOAD}") in start and html.escape(f"err {PAYLOAD}") in start
    assert html.escape(repr(PAYLOAD)) in start  # an artifact
    assert html.escape("<i>col</i>") in start  # a DataFrame column and cell
    assert f"<td>{html.escape(PAYLOAD[:40])}" in start  # (long cells are cut)
    assert html.escape(f"ValueError: {PAYLOAD}") in pages["/task/UiXssFlow/2/end/2"]


def test_cards_are_embedded_sandboxed_and_served_alone(ui, store_root):
    ds = open_datastore("local", str(store_root))
    end = AttemptPath("LinearFlow", "1", "end", "3", 0)
    ds.write_card(end, "default.html", "<html><body><h1>Report</h1></body></html>")
    ds.write_card(end, "notes.txt", "not a card")
    ds.write_card(end, "10-blank-late.html", "<p>tenth</p>")
    ds.write_card(end, "2-blank.html", "<p>second</p>")
    _, _, body = ui.get("/task/LinearFlow/1/end/3")
    src = "/card/LinearFlow/1/end/3/0/default.html"
    assert f'<iframe class="card" src="{src}"' in body and 'sandbox="allow-scripts"' in body
    assert "notes.txt" not in body
    titles = re.findall(r'<div class="card-head"><strong>([^<]+)</strong>', body)
    assert titles == ["blank", "blank-late", "default"]  # declared order, then others
    status, headers, card = ui.get(src)
    assert status == 200 and "<h1>Report</h1>" in card
    assert "sandbox allow-scripts" in headers["Content-Security-Policy"]
    assert ui.get("/card/LinearFlow/1/end/3/0/notes.txt")[0] == 404


def test_a_damaged_artifact_index_is_shown_not_raised(ui, store_root):
    ds = open_datastore("local", str(store_root))
    square = AttemptPath("ForeachFlow", "1", "square", "3", 0)
    ds.storage.put(f"{ds.attempt_key(square)}/index.json", [b"{not json"])
    status, _, body = ui.get("/task/ForeachFlow/1/square/3")
    assert status == 200 and "is damaged" in body


def test_requests_for_other_hosts_are_refused_unless_remote_is_allowed(ui, store_root):
    status, _, body = ui.get("/", headers={"Host": "evil.example:8324"})
    assert status == 400 and "--allow-remote" in body
    assert ui.get("/", headers={"Host": "localhost:1234"})[0] == 200
    assert ui.get("/", headers={"Host": "[::1]:1234"})[0] == 200
    remote = start_server(store_root, allow_remote=True)
    try:
        assert remote.get("/", headers={"Host": "evil.example:8324"})[0] == 200
    finally:
        stop_server(remote)


def test_a_bug_gives_a_generic_500_page_and_reports_the_traceback(store_root, monkeypatch):
    import headwater.ui.routes as routes

    def broken(stores):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(routes, "flows_page", broken)
    served = start_server(store_root)
    try:
        status, _, body = served.get("/")
    finally:
        stop_server(served)
    assert status == 500 and "Server error" in body
    assert "secret detail" not in body and "Traceback" not in body
    assert len(served.errors) == 1 and "RuntimeError: secret detail" in served.errors[0]
