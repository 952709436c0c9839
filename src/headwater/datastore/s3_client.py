"""What every S3Storage of a process shares: one boto3 client per endpoint, one thread pool,
retries with backoff, and S3's errors as one-line headlines.

Making a client costs ~0.2 s (botocore reads the S3 service model) and importing botocore
~0.3 s more, while a forked task opens the datastore afresh: so clients are made on the first
request, once per process and endpoint, and kept. A forked child inherits them but must not
speak on its parent's sockets: ``os.register_at_fork`` gives each client in the child a new,
empty connection pool (or, should botocore's insides ever differ, drops the client), so a
task forked from a warm process pays neither the import nor the client again.

Retries are ours, not botocore's (its retry count is 1): a request and the reading of its
body are retried together, so a body cut short is fetched again like a 503. Retried: HTTP 5xx
and 429, S3's throttling codes (SlowDown, ...), dropped or refused connections, timeouts and
truncated bodies; with exponential backoff and jitter, for up to ``MAX_ATTEMPTS`` tries.

boto3 (botocore) is imported here, lazily: importing this module imports neither.
"""

from __future__ import annotations

import os
import random
import threading
import time

from headwater.exceptions import DatastoreError, HeadwaterException, MissingExtra

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from concurrent.futures import ThreadPoolExecutor
    from typing import Any, TypeVar

    T = TypeVar("T")

WORKERS = 10  # threads moving the parts of one large object, or many small objects at once
POOL_CONNECTIONS = 2 * WORKERS + 4  # two large transfers at once, and a log flush beside them
MAX_ATTEMPTS = 8  # tries of one request before its error is reported (~12 s of backoff)
BACKOFF_BASE = 0.05  # seconds before the first retry; doubles each time, with jitter
BACKOFF_CAP = 5.0
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0

RETRY_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequests",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "ConditionalRequestConflict",  # a concurrent conditional write: ask again
        "OperationAborted",
    }
)
THROTTLE_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestThrottled",
                            "RequestLimitExceeded", "TooManyRequests"})  # fmt: skip
CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
     "TokenRefreshRequired", "AuthorizationHeaderMalformed"}
)  # fmt: skip
DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem", "403"})


class Truncated(Exception):
    """A response body ended before its length (a dropped connection, a broken proxy)."""


_lock = threading.Lock()
_session: Any = None
_clients: dict[str | None, Any] = {}
_executor: ThreadPoolExecutor | None = None
_hooked = False
_orphans: list[Any] = []  # a parent's connection pools, kept (never used) in a forked child


def client(endpoint_url: str | None) -> Any:
    """The process's botocore S3 client for ``endpoint_url`` (None: AWS), made on first use."""
    c = _clients.get(endpoint_url)
    if c is None:
        with _lock:
            c = _clients.get(endpoint_url)
            if c is None:
                c = _clients[endpoint_url] = _make_client(endpoint_url)
    return c


def _botocore() -> Any:
    try:
        import botocore.session
    except ImportError:
        raise MissingExtra("the s3 datastore", "boto3", "s3") from None
    return botocore


def _make_client(endpoint_url: str | None) -> Any:
    global _session, _hooked
    botocore = _botocore()
    from botocore.config import Config

    if _session is None:
        _session = botocore.session.get_session()
    options: dict[str, Any] = {
        "max_pool_connections": POOL_CONNECTIONS,
        "retries": {"total_max_attempts": 1},  # ours, around the request and its body
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "parameter_validation": False,  # bodies are memoryviews of the caller's buffers
        "tcp_keepalive": True,
        # Blobs carry their own hash, checked on read; a CRC of every byte on top costs CPU,
        # and S3-compatible servers do not all know the newer checksum headers.
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
    }
    if endpoint_url:
        options["s3"] = {"addressing_style": "path"}  # what every S3-compatible server reads
    try:
        config = Config(**options)
    except TypeError:  # botocore before 1.36 knows no checksum options (and computes none)
        del options["request_checksum_calculation"], options["response_checksum_validation"]
        config = Config(**options)
    try:
        made = _session.create_client("s3", endpoint_url=endpoint_url or None, config=config)
    except ValueError as e:  # a malformed endpoint URL
        raise DatastoreError(
            f"invalid S3 endpoint {endpoint_url!r} ({e}): fix HEADWATER_S3_ENDPOINT_URL"
        ) from None
    if not _hooked and hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _hooked = True
    return made


def _after_fork_in_child() -> None:
    """Nothing of the parent's connections or threads is used in a forked child."""
    global _lock, _executor
    _lock = threading.Lock()  # the parent may have held it in another thread
    _executor = None  # its threads do not exist here
    for endpoint, c in list(_clients.items()):
        if not _new_connection_pool(c):
            del _clients[endpoint]


def _new_connection_pool(c: Any) -> bool:
    """Give client ``c`` an empty connection pool; False when botocore is not as expected."""
    try:
        http = c._endpoint.http_session
        from urllib3 import PoolManager

        fresh = PoolManager(**http._get_pool_manager_kwargs())
        fresh.pool_classes_by_scheme = http._pool_classes_by_scheme
        _orphans.append((http._manager, http._proxy_managers))  # never closed from here
        http._manager = fresh
        http._proxy_managers = {}
        return True
    except Exception:  # noqa: BLE001 - any surprise: make a new client instead
        return False


def executor() -> ThreadPoolExecutor:
    """The process's pool of ``WORKERS`` I/O threads (made on first use)."""
    global _executor
    pool = _executor
    if pool is None:
        with _lock:
            pool = _executor
            if pool is None:
                from concurrent.futures import ThreadPoolExecutor

                pool = _executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="headwater-s3")
    return pool


# --- errors ---------------------------------------------------------------------------------


def error_code(e: BaseException) -> str:
    """S3's error code of a ClientError ('NoSuchKey', '404', ...), else ''."""
    response = getattr(e, "response", None)
    if not isinstance(response, dict):
        return ""
    code = response.get("Error", {}).get("Code")
    if code:
        return str(code)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(status) if status else ""


def http_status(e: BaseException) -> int:
    response = getattr(e, "response", None)
    if not isinstance(response, dict):
        return 0
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


_transient: tuple[type[BaseException], ...] | None = None


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Exception types of a failed transport: dropped, refused, timed out, cut short."""
    global _transient
    if _transient is None:
        import http.client

        from botocore import exceptions as be

        found: list[type[BaseException]] = [
            Truncated,
            OSError,  # ConnectionResetError, timeouts, BrokenPipeError
            http.client.HTTPException,  # IncompleteRead, RemoteDisconnected
            be.HTTPClientError,  # ConnectionClosedError, ReadTimeoutError, EndpointConnection...
            be.IncompleteReadError,
        ]
        for name in ("ResponseStreamingError", "ConnectionError"):
            cls = getattr(be, name, None)
            if isinstance(cls, type):
                found.append(cls)
        try:
            from urllib3.exceptions import HTTPError as Urllib3Error

            found.append(Urllib3Error)  # ProtocolError from a body read
        except ImportError:  # pragma: no cover
            pass
        _transient = tuple(found)
    return _transient


def retryable(e: BaseException) -> bool:
    if _is_client_error(e):
        status = http_status(e)
        return status >= 500 or status == 429 or error_code(e) in RETRY_CODES
    return isinstance(e, _transient_errors())


def _is_client_error(e: BaseException) -> bool:
    return isinstance(getattr(e, "response", None), dict)


def with_retries(fn: Callable[[], T]) -> T:
    """``fn()``, tried again after a transient failure (see the module's docstring); the
    last exception is raised as it was."""
    attempt = 1
    while True:
        try:
            return fn()
        except Exception as e:
            if attempt >= MAX_ATTEMPTS or not retryable(e):
                raise
            base = BACKOFF_BASE * (4 if error_code(e) in THROTTLE_CODES else 1)
            delay = min(BACKOFF_CAP, base * 2 ** (attempt - 1))
            time.sleep(delay * (0.5 + random.random() / 2))
            attempt += 1


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def translate(e: BaseException, doing: str, where: str, endpoint: str | None) -> HeadwaterException:
    """A one-line DatastoreError for an S3 failure: what failed, and what to do about it.
    headwater's own errors (KeyNotFound, MissingExtra, ...) are returned as they are.

    ``doing``: 'read', 'write', 'list', ...; ``where``: the s3:// URL of the object."""
    if isinstance(e, HeadwaterException):
        return e
    name = type(e).__name__
    code = error_code(e) if _is_client_error(e) else ""
    server = endpoint or "AWS S3"
    bucket = where[5:].split("/", 1)[0] if where.startswith("s3://") else where
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return DatastoreError(
            f"no AWS credentials to {doing} {where}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (see `aws configure`)"
        )
    if code == "NoSuchBucket":
        return DatastoreError(
            f"S3 bucket {bucket!r} does not exist (on {server}), so could not {doing} {where}: "
            "create it, or set --datastore-root / HEADWATER_DATASTORE_ROOT to an existing bucket"
        )
    if code in DENIED_CODES:
        return DatastoreError(
            f"access denied to {doing} {where} (on {server}): check that the AWS credentials in "
            "use (AWS_PROFILE, AWS_ACCESS_KEY_ID) may do that in this bucket"
        )
    if code in CREDENTIAL_CODES:
        return DatastoreError(
            f"S3 rejected the credentials ({code}) to {doing} {where} on {server}: check "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, and "
            "HEADWATER_S3_ENDPOINT_URL"
        )
    if code == "InvalidBucketName":
        return DatastoreError(
            f"invalid S3 bucket name {bucket!r}: fix --datastore-root / HEADWATER_DATASTORE_ROOT"
        )
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ProxyConnectionError"):
        return DatastoreError(
            f"cannot reach the S3 endpoint {server} to {doing} {where} ({_one_line(e)}): check "
            "HEADWATER_S3_ENDPOINT_URL and the network"
        )
    if retryable(e):
        what = f"{code}: {_one_line(_message(e))}" if code else _one_line(e) or name
        return DatastoreError(
            f"S3 kept failing to {doing} {where} after {MAX_ATTEMPTS} tries ({what}): "
            f"{server} is unavailable or overloaded; try again later"
        )
    if code:
        return DatastoreError(
            f"S3 refused to {doing} {where} ({code}: {_one_line(_message(e))}) on {server}"
        )
    return DatastoreError(f"could not {doing} {where} on {server} ({name}: {_one_line(e)})")


def _message(e: BaseException) -> str:
    response = getattr(e, "response", None) or {}
    return str(response.get("Error", {}).get("Message") or e)
