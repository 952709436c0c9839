"""A small HTTP/1.1 client for the metadata service: one keep-alive connection, requests with a
Content-Length body, responses with a Content-Length or chunked body.

Why not ``http.client``: importing it costs ~30 ms (it parses headers with the ``email``
package), more than half of a whole client process that looks up one run; ``socket`` costs
another ~8 ms (``enum``, ``selectors``). This module needs only ``_socket`` (and ``ssl`` for an
https URL, imported then). It speaks just what the service sends.
"""

from __future__ import annotations

import _socket
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# Sockets a forked child inherited: kept, never used or closed (they are the parent's).
_INHERITED: list[Any] = []

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def quote(text: str) -> str:
    """Percent-encode ``text`` (UTF-8) for a query string: every byte but the unreserved ones."""
    if text.isascii() and text.isalnum():
        return text
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def query_string(params: list[tuple[str, Any]]) -> str:
    parts = [f"{k}={quote(str(v))}" for k, v in params if v is not None]
    return ("?" + "&".join(parts)) if parts else ""


class StaleConnection(OSError):
    """A kept-alive connection the server had closed: the request was not received; send it
    again on a new connection."""


class ProtocolError(OSError):
    """The server's answer was not HTTP as expected (a truncated or garbled response)."""


class HttpConnection:
    """One keep-alive connection to ``host:port`` for this process (made again after a fork,
    or after the server closed it). Not thread-safe: the caller serialises requests."""

    def __init__(self, host: str, port: int, tls: bool = False, timeout: float = 60.0) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.timeout = timeout
        self._sock: Any = None
        self._pid = os.getpid()

    def _connect(self) -> Any:
        last: OSError | None = None
        # An ASCII host name as bytes: a str would go through the idna codec, which imports re.
        host = self.host.encode("ascii") if self.host.isascii() else self.host
        for family, kind, proto, _name, address in _socket.getaddrinfo(
            host, self.port, 0, _socket.SOCK_STREAM
        ):
            sock = _socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.timeout)
                sock.connect(address)
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            if self.tls:
                import ssl
                from socket import socket as full_socket

                wrapped = full_socket(fileno=sock.detach())
                sock = ssl.create_default_context().wrap_socket(wrapped, server_hostname=self.host)
            return sock
        raise last or OSError(f"no address for {self.host}")

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            if self._pid == os.getpid():
                sock.close()
            else:
                _INHERITED.append(sock)

    def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request and read its response: (status, headers in lower case, body).
        Raises OSError (StaleConnection when a kept-alive connection had been closed)."""
        pid = os.getpid()
        if self._pid != pid:  # a forked child: the inherited socket is the parent's
            if self._sock is not None:
                _INHERITED.append(self._sock)
                self._sock = None
            self._pid = pid
        reused = self._sock is not None
        if self._sock is None:
            self._sock = self._connect()
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body) if body else 0}")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        got_any = False
        try:
            self._sock.sendall(payload)
            status, head, data, got_any = self._read()
        except OSError as exc:
            self.close()
            if reused and not got_any and not isinstance(exc, TimeoutError):
                raise StaleConnection(str(exc) or type(exc).__name__) from exc
            raise
        if head.get("connection", "").lower() == "close":
            self.close()
        return status, head, data

    def _read(self) -> tuple[int, dict[str, str], bytes, bool]:
        sock = self._sock
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ProtocolError("the connection closed before a response")
            buf += chunk
            if len(buf) > 1 << 20:
                raise ProtocolError("response headers too large")
        raw_head, rest = buf.split(b"\r\n\r\n", 1)
        head_lines = raw_head.decode("latin-1").split("\r\n")
        try:
            status = int(head_lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            raise ProtocolError(f"not an HTTP response: {head_lines[0][:80]!r}") from None
        headers: dict[str, str] = {}
        for line in head_lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = self._exactly(rest, int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._chunked(rest)
        else:  # until the server closes
            parts = [rest]
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                parts.append(chunk)
            body = b"".join(parts)
            headers["connection"] = "close"
        return status, headers, body, True

    def _exactly(self, have: bytes, n: int) -> bytes:
        parts = [have]
        size = len(have)
        while size < n:
            chunk = self._sock.recv(max(65536, n - size))
            if not chunk:
                raise ProtocolError(f"the response ended after {size} of {n} bytes")
            parts.append(chunk)
            size += len(chunk)
        data = b"".join(parts)
        if len(data) != n:
            raise ProtocolError("the response had more bytes than announced")
        return data

    def _chunked(self, buf: bytes) -> bytes:
        out: list[bytes] = []
        while True:
            while b"\r\n" not in buf:
                buf += self._more()
            line, buf = buf.split(b"\r\n", 1)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while not (buf.startswith(b"\r\n") or b"\r\n\r\n" in buf):
                    buf += self._more()
                return b"".join(out)
            while len(buf) < size + 2:
                buf += self._more()
            out.append(buf[:size])
            buf = buf[size + 2 :]

    def _more(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ProtocolError("the response ended inside a chunk")
        return chunk
