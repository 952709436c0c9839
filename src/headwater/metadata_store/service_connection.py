"""One process's connection to a headwater metadata service: its address and token, requests
retried until the service answers, the service's errors as headwater's.

The URL is ``http(s)://HOST[:PORT][/PREFIX]``; the endpoints are under ``PREFIX/v1``. The token
is the one given, else the environment variable named ``token_setting``, else (for
HEADWATER_SERVICE_TOKEN) the settings file's. Light on purpose: the standard library's
``_socket`` and ``_json`` only (see service_http, service_json), one keep-alive connection per
object and process (made again after a fork; a lock makes the object safe to share between
threads, and is replaced after a fork), one request per call.

Connection errors and 5xx answers are retried with backoff for HEADWATER_SERVICE_RETRY_S seconds
(default 120), then raise :class:`MetadataUnavailable`. Every request with a body (a write)
carries an idempotency key, the same for every retry, that the service stores with the write,
so a write retried after the service committed it is applied once.
"""

from __future__ import annotations

import _thread
import os
import time

from headwater.exceptions import (
    MetadataAuthError,
    MetadataError,
    MetadataUnavailable,
    NotRunOwner,
    TagError,
)
from headwater.metadata_store.service_http import HttpConnection, StaleConnection, query_string
from headwater.metadata_store.service_json import dumps, loads

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

TOKEN_SETTING = "HEADWATER_SERVICE_TOKEN"
RETRY_SETTING = "HEADWATER_SERVICE_RETRY_S"
DEFAULT_RETRY_S = 120.0
API = "/v1"

_REFUSED_TOKEN = (
    "the metadata service refused the token: create one with "
    f"`headwater service token create USER` and set {TOKEN_SETTING}"
)


def retry_seconds() -> float:
    raw = os.environ.get(RETRY_SETTING, "")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_RETRY_S
    except ValueError:
        return DEFAULT_RETRY_S


class ServiceConnection:
    """The metadata service at ``url`` as this process sees it, authenticated by ``token``
    (default: the environment variable named ``token_setting``)."""

    def __init__(
        self, url: str, token: str | None = None, token_setting: str = TOKEN_SETTING
    ) -> None:
        self.url = url.rstrip("/")
        self.token_setting = token_setting
        self._token = token
        scheme, _, rest = self.url.partition("://")
        if scheme not in ("http", "https") or not rest:
            raise MetadataError(
                f"metadata service URL {url!r} is not valid: use http://HOST:PORT "
                "(e.g. http://127.0.0.1:8325)"
            )
        hostport, _, prefix = rest.partition("/")
        self._prefix = ("/" + prefix if prefix else "") + API
        if hostport.startswith("["):  # [IPv6]:port
            host, _, port = hostport[1:].partition("]")
            port = port.lstrip(":")
        else:
            host, _, port = hostport.partition(":")
        self._host = host
        self._port = int(port) if port.isdigit() else (443 if scheme == "https" else 80)
        self._tls = scheme == "https"
        self._http: HttpConnection | None = None
        self._lock = _thread.allocate_lock()
        self._lock_pid = os.getpid()

    def close(self) -> None:
        """Close this process's connection (reopened on demand)."""
        with self._locked():
            if self._http is not None:
                self._http.close()

    def _locked(self) -> Any:
        pid = os.getpid()
        if self._lock_pid != pid:  # a forked child: the parent's lock may be held for ever
            self._lock = _thread.allocate_lock()
            self._lock_pid = pid
        return self._lock

    def _token_value(self) -> str:
        token = self._token or os.environ.get(self.token_setting)
        if not token and self.token_setting == TOKEN_SETTING:  # the settings file may have it
            from headwater.settings import load_settings

            token = self._token = load_settings().service_token
        if not token:
            raise MetadataAuthError(
                f"no token for the metadata service at {self.url}: create one with "
                f"`headwater service token create USER` and set {self.token_setting}"
            )
        return token

    def _send(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> Any:
        with self._locked():
            if self._http is None:
                self._http = HttpConnection(self._host, self._port, self._tls)
            try:
                return self._http.request(method, target, headers, body)
            except StaleConnection:  # the service closed an idle connection: once more, anew
                return self._http.request(method, target, headers, body)

    def call(
        self,
        method: str,
        name: str,
        query: list[tuple[str, Any]] | None = None,
        body: Any = None,
        retry_s: float | None = None,
    ) -> Any:
        """One request, retried on connection errors and 5xx answers for ``retry_s`` seconds
        (default HEADWATER_SERVICE_RETRY_S); the decoded JSON answer."""
        headers = {"Authorization": "Bearer " + self._token_value(), "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = dumps(body)
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = os.urandom(16).hex()  # the same for every retry
        target = self._prefix + "/" + name + query_string(query or [])
        deadline = time.monotonic() + (retry_seconds() if retry_s is None else retry_s)
        delay = 0.05
        while True:
            try:
                status, _headers, data = self._send(method, target, headers, payload)
            except OSError as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                failure = (
                    f"cannot reach the metadata service at {self.url} ({reason}): start it "
                    "with `headwater service --db ...` or check HEADWATER_SERVICE_URL"
                )
            else:
                if status < 500:
                    return self._answer(status, data, name)
                failure = (
                    f"the metadata service at {self.url} kept failing "
                    f"({_error_text(status, data)}): check the service's log and its database"
                )
            now = time.monotonic()
            if now >= deadline:
                raise MetadataUnavailable(failure)
            jitter = 0.5 + os.urandom(1)[0] / 510  # 0.5 .. 1.0
            time.sleep(min(delay * jitter, max(0.0, deadline - now)))
            delay = min(delay * 2, 2.0)

    def _answer(self, status: int, data: bytes, name: str) -> Any:
        if status == 200:
            return loads(data)
        if status == 401:
            raise MetadataAuthError(_REFUSED_TOKEN)
        if status == 404 and not data.startswith(b'{"error"'):
            raise MetadataError(
                f"the metadata service at {self.url} has no {name} endpoint: check that the URL "
                "is a headwater metadata service of this version"
            )
        raise error_from(status, _error_body(data))


def _error_body(data: bytes) -> dict[str, Any]:
    try:
        body = loads(data)
        return body if isinstance(body, dict) else {}
    except (ValueError, UnicodeDecodeError):
        return {}


def _error_text(status: int, data: bytes) -> str:
    message = _error_body(data).get("error")
    return f"HTTP {status}: {message}" if message else f"HTTP {status}"


def error_from(status: int, body: dict[str, Any]) -> MetadataError | TagError:
    """The error an answer with ``status`` and the error ``body`` stands for (also the failed
    write of a batch)."""
    message = " ".join(str(body.get("error") or body.get("message") or f"HTTP {status}").split())
    kind = body.get("kind")
    if status == 401:
        return MetadataAuthError(_REFUSED_TOKEN)
    if status == 403:
        return NotRunOwner(message)
    if kind == "TagError":
        return TagError(message)
    if kind == "MetadataUnavailable":
        return MetadataUnavailable(message)
    return MetadataError(message)
