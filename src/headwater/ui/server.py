"""The UI's HTTP server: the standard library's threading server, read-only.

Only GET and HEAD are answered (anything else: 405). Pages carry a Content-Security-Policy
whose script nonce is new for every response, so even text that slipped through escaping could
not run; cards are served as separate, sandboxed documents. Unless remote access was asked
for, requests naming a Host other than the loopback names are refused, so a web page elsewhere
cannot read the UI through DNS rebinding. Unknown objects give a 404 page; a store problem a
page with its one-line message; a bug a generic 500 page (the traceback goes to ``on_error``).
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from headwater.exceptions import HeadwaterException, InvalidPathspec, ObjectNotFound
from headwater.ui.layout import Page, render_page
from headwater.ui.pages.errors import error_page, not_found_page
from headwater.ui.queries import Stores
from headwater.ui.routes import Reply, dispatch

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

ALLOWED_METHODS = "GET, HEAD"

PAGE_CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# A card is its own document, sandboxed even when opened directly: its scripts run in an
# opaque origin, with no network and no dialogs.
CARD_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; frame-ancestors 'self'; sandbox allow-scripts"
)
TEXT_CSP = "default-src 'none'; sandbox"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class UiServer(ThreadingHTTPServer):
    """Serves the UI of one set of stores (or local root) until ``shutdown()``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        root: Any,
        host: str = "127.0.0.1",
        port: int = 8324,
        allow_remote: bool = False,
        on_error: Callable[[str], object] | None = None,
    ) -> None:
        if ":" in host.strip("[]"):
            self.address_family = socket.AF_INET6
        self.stores = Stores(root)
        self.allow_remote = allow_remote
        self.on_error = on_error
        super().__init__((host.strip("[]"), port), UiRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}/"

    def server_close(self) -> None:
        super().server_close()
        self.stores.close()


class UiRequestHandler(BaseHTTPRequestHandler):
    server: UiServer
    server_version = "headwater-ui"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged (the library never prints)."""

    # Any method but GET and HEAD: 405 (BaseHTTPRequestHandler would answer 501).
    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self.close_connection = True  # any request body is left unread
        page = error_page(405, "Method not allowed", "This UI is read-only: only GET and HEAD.")
        self._send_page(page, extra={"Allow": ALLOWED_METHODS, "Connection": "close"})

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()  # _send leaves the body out

    # --- answering --------------------------------------------------------------------------

    def _host_allowed(self) -> bool:
        if self.server.allow_remote:
            return True
        host = self.headers.get("Host")
        if not host:
            return True
        name = host[: host.find("]") + 1] if host.startswith("[") else host.split(":")[0]
        return is_loopback(name)

    def _answer(self) -> None:
        if not self._host_allowed():
            reason = "this UI only answers requests for localhost: start it with --allow-remote"
            self._send_page(error_page(400, "Bad host", reason))
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        try:
            result = dispatch(self.server.stores, parts.path or "/", query)
        except (ObjectNotFound, InvalidPathspec) as ex:
            self._send_page(not_found_page(str(ex)))
            return
        except HeadwaterException as ex:  # a damaged or newer store: say what, no traceback
            self._send_page(error_page(500, "Cannot read the store", str(ex)))
            return
        except Exception:
            if self.server.on_error is not None:
                self.server.on_error(traceback.format_exc())
            reason = "The UI hit a bug while building this page; the server's terminal has details."
            self._send_page(error_page(500, "Server error", reason))
            return
        if isinstance(result, Page):
            self._send_page(result)
        else:
            self._send_reply(result)

    def _send_page(self, page: Page, extra: dict[str, str] | None = None) -> None:
        nonce = secrets.token_urlsafe(16)
        body = render_page(page, nonce).encode("utf-8")
        headers = {
            "Content-Security-Policy": PAGE_CSP.format(nonce=nonce),
            "X-Frame-Options": "DENY",
            **(extra or {}),
        }
        self._send(page.status, "text/html; charset=utf-8", body, headers)

    def _send_reply(self, reply: Reply) -> None:
        headers: dict[str, str] = {}
        if reply.kind == "card":
            headers["Content-Security-Policy"] = CARD_CSP
            headers["X-Frame-Options"] = "SAMEORIGIN"
        elif reply.kind == "text":
            headers["Content-Security-Policy"] = TEXT_CSP
        self._send(reply.status, reply.content_type, reply.body, headers)

    def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def make_server(
    root: Any,
    host: str = "127.0.0.1",
    port: int = 8324,
    allow_remote: bool = False,
    on_error: Callable[[str], object] | None = None,
) -> UiServer:
    """A bound server (port 0 picks a free one; see ``.url``); call ``serve_forever()``."""
    return UiServer(root, host, port, allow_remote, on_error)
