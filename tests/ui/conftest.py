"""Fixtures of the UI tests: a store built by running real flows (once per module), a UI server
on an ephemeral port in a thread, and a headless Chromium driven by Playwright.

Browser tests are skipped with the reason when Chromium or Playwright is missing, except under
CI (the CI environment variable set), where that is a failure: CI must run them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ui_helpers import (
    CHROMIUM_ARGS,
    XSS_TAG,
    browser_missing,
    chromium_path,
    run_flow_file,
    start_server,
    stop_server,
)


@pytest.fixture(scope="module")
def store_root(tmp_path_factory) -> Path:
    """A datastore with LinearFlow (2 runs, one tagged), ForeachFlow, a failed FailingFlow and
    UiXssFlow runs (completed, tagged with HTML, and failed with an HTML exception)."""
    root = tmp_path_factory.mktemp("ui") / ".headwater"
    runs = [
        ("linear.py",),
        ("linear.py", "--tag", "nightly"),
        ("foreach.py",),
        ("failing_flow.py",),
        ("ui_xss_flow.py", "--tag", XSS_TAG),
        ("ui_xss_flow.py", "--fail", "yes"),
    ]
    for name, *args in runs:
        proc = run_flow_file(root, name, *args)
        expect_ok = name != "failing_flow.py" and "--fail" not in args
        assert (proc.returncode == 0) == expect_ok, proc.stderr
    return root


@pytest.fixture(scope="module")
def ui(store_root):
    """The UI of ``store_root``, served from a thread; no request may hit a bug (500)."""
    served = start_server(store_root)
    yield served
    stop_server(served)
    assert not served.errors, served.errors[0]


@pytest.fixture(scope="module")
def browser():
    reason = browser_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run under CI, but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page in a fresh context; the test fails if any dialog (alert...) opens."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    watched: set[int] = set()

    def watch(p):
        if id(p) not in watched:
            watched.add(id(p))
            p.on("dialog", on_dialog)

    context.on("page", watch)
    pg = context.new_page()
    watch(pg)
    pg.set_default_timeout(15_000)
    pg.dialogs = dialogs
    yield pg
    context.close()
    assert not dialogs, f"a dialog opened: {dialogs}"
