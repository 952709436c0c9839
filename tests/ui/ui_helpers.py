"""Helpers of the UI tests: run flow files into a root, serve a root from a thread, take
screenshots. (Fixtures are in conftest.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

FLOWS = Path(__file__).resolve().parents[1] / "flows"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAYLOAD = '<script>alert("xss")</script><img src=x onerror="alert(1)"><b>bold</b>'
XSS_TAG = '<b>tag</b><script>alert("tag")</script>'


def flow_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HEADWATER_ROOT=str(root), HEADWATER_USER="tester")
    env.pop("HEADWATER_DEBUG", None)
    return env


def run_flow_file(root: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    """``python tests/flows/<name> run <args>`` against ``root``."""
    return subprocess.run(
        [sys.executable, str(FLOWS / name), "run", *args],
        capture_output=True,
        text=True,
        env=flow_env(root),
        cwd=root.parent,
        timeout=120,
    )


def start_flow_file(root: Path, name: str, *args: str) -> subprocess.Popen:
    """Start ``python tests/flows/<name> run <args>`` in the background."""
    return subprocess.Popen(
        [sys.executable, str(FLOWS / name), "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=flow_env(root),
        cwd=root.parent,
    )


@dataclass
class Served:
    url: str
    server: object
    errors: list[str] = field(default_factory=list)

    def get(self, path: str, method: str = "GET", headers: dict | None = None):
        """(status, headers, body) of a request; error statuses are returned, not raised."""
        req = urllib.request.Request(
            self.url.rstrip("/") + path, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read().decode("utf-8", "replace")

    def json(self, path: str) -> dict:
        status, _, body = self.get(path)
        assert status == 200, body
        return json.loads(body)


def start_server(root: Path, **kwargs) -> Served:
    from headwater.ui.server import make_server

    errors: list[str] = []
    server = make_server(root, "127.0.0.1", 0, on_error=errors.append, **kwargs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Served(server.url, server, errors)


def stop_server(served: Served) -> None:
    served.server.shutdown()
    served.server.server_close()


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright)"
    if not chromium_path():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def chromium_path() -> str | None:
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
