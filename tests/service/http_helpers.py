"""Raw HTTP requests to the service, as any client (or attacker) could send them."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request


def request(url: str, method: str, name: str, token: str | None = None, query=None, body=None):
    """(status, decoded JSON body) of ``METHOD /v1/<name>``."""
    target = f"{url}/v1/{name}"
    if query:
        target += "?" + urllib.parse.urlencode(query, doseq=True)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(target, data=data, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
