"""The metadata store over HTTP: a client of ``headwater service`` (see docs/commands/service.md).

Implements :class:`headwater.metadata_store.store.MetadataStore`; the service keeps the records
in PostgreSQL. This module has the connection, the requests, batches and writes; the reads are
in service_reads. Light on purpose: the standard library's ``_socket`` and ``_json`` only (see
service_http, service_json), one keep-alive connection per object and process (made again
after a fork), one request per call.

Choices beyond the interface:

- The run's user is the token's: ``create_run``'s ``user`` is not sent, and the service tags
  the run ``user:<token user>`` itself (any ``user:`` system tag given is replaced).
- Connection errors and 5xx answers are retried with backoff for HEADWATER_SERVICE_RETRY_S
  seconds (default 120), then raise :class:`MetadataUnavailable`. Every write carries an
  idempotency key that the service stores with the write, so a write retried after the
  service committed it is applied once.
- ``batch()``: the writes made inside it (by the thread that opened it) are queued and sent as
  one request when it ends, applied by the service in one transaction, in order, stopping at
  the first that fails (whose error is raised then). Calls that return a record the client
  cannot build itself send the queue first and run at once: ``create_run``, the tag calls,
  ``create_task`` without a ``task_id``, and every read.
- ``held=True``: a daemon thread renews the run's lease (see run_heartbeat) until the run gets
  a final status; the service reads the run INTERRUPTED once the lease has expired.
- Pickling keeps the URL and the name of the setting the token is read from, never the token.
"""

from __future__ import annotations

import _thread
import os
import time

from headwater.core.tags import check_user_tag_count, validate_user_tags
from headwater.exceptions import (
    MetadataAuthError,
    MetadataError,
    MetadataUnavailable,
    NotRunOwner,
    TagError,
)
from headwater.metadata_store import service_wire as wire
from headwater.metadata_store.checks import (
    check_attempt,
    check_name,
    check_parents,
    check_pathspec,
    check_system_tags,
    check_tags_to_remove,
    coerce,
)
from headwater.metadata_store.records import RunRecord, RunStatus, TaskRecord, TaskStatus
from headwater.metadata_store.service_http import HttpConnection, StaleConnection, query_string
from headwater.metadata_store.service_json import dumps, loads
from headwater.metadata_store.service_reads import ServiceReads

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

TOKEN_SETTING = "HEADWATER_SERVICE_TOKEN"
RETRY_SETTING = "HEADWATER_SERVICE_RETRY_S"
DEFAULT_RETRY_S = 120.0
MAX_BATCH_OPS = 500  # a longer batch is sent in parts of this many writes
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


class ServiceMetadata(ServiceReads):
    """Run, step, task and attempt records kept by a headwater metadata service at ``url``,
    authenticated by ``token`` (default: the environment variable named ``token_setting``).
    Its reads are ServiceReads'."""

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
        self._batch_ops: list[dict[str, Any]] = []
        self._batch_owner: tuple[int, int] | None = None  # (pid, thread) of the open batch
        self._batch_depth = 0
        self._heartbeat: Any = None

    @classmethod
    def from_settings(cls, settings: Any, local_root: str | None) -> ServiceMetadata:
        """The service the settings name (HEADWATER_SERVICE_URL; the token from
        HEADWATER_SERVICE_TOKEN or the settings file); see headwater.stores."""
        if not settings.service_url:
            raise MetadataError(
                "the metadata service is selected but no URL is set: set HEADWATER_SERVICE_URL "
                "or run `headwater configure --service-url URL`"
            )
        return cls(settings.service_url, token=settings.service_token)

    def __repr__(self) -> str:
        return f"ServiceMetadata({self.url!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "token_setting": self.token_setting}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"], token_setting=state["token_setting"])  # type: ignore[misc]

    def __enter__(self) -> ServiceMetadata:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop renewing leases and close this process's connection (reopened on demand)."""
        if self._heartbeat is not None:
            self._heartbeat.stop()
        with self._locked():
            if self._http is not None:
                self._http.close()

    # --- requests ---------------------------------------------------------------------------

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

    def _call(
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
        raise _error(status, _error_body(data))

    # --- batches ------------------------------------------------------------------------------

    def _in_batch(self) -> bool:
        return self._batch_owner == (os.getpid(), _thread.get_ident())

    def batch(self) -> Any:
        """``with store.batch():`` this thread's writes inside are sent together when the block
        ends and applied in one transaction (see the module docstring)."""
        return _Batch(self)

    def _write(self, op: str, args: dict[str, Any]) -> Any:
        """Queue a write inside a batch, else send it."""
        if self._in_batch():
            self._batch_ops.append({"op": op, "args": args})
            if len(self._batch_ops) >= MAX_BATCH_OPS:
                self._flush()
            return None
        return self._call("POST", op, body=args)

    def _flush(self) -> None:
        ops, self._batch_ops = self._batch_ops, []
        if not ops:
            return
        answer = self._call("POST", "batch", body={"ops": ops})
        if answer.get("error"):
            raise _error(answer["error"]["status"], answer["error"])

    def _now(self) -> None:
        """Before a call that cannot be queued: send what the batch holds."""
        if self._batch_ops and self._in_batch():
            self._flush()

    # --- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        flow: str,
        user: str,
        tags: Sequence[str] = (),
        system_tags: Sequence[str] = (),
        origin_run_id: str | None = None,
        held: bool = False,
        run_id: str | None = None,
    ) -> RunRecord:
        """Register the flow if new and allocate the next run id (or use ``run_id``);
        status RUNNING. The run belongs to the token's user, whatever ``user`` says."""
        check_name("flow name", flow)
        user_tags = validate_user_tags(tags)
        check_user_tag_count(user_tags)
        sys_tags = check_system_tags(system_tags)
        if run_id is not None:
            run_id = check_name("run id", str(run_id))
        body: dict[str, Any] = {
            "flow": flow,
            "tags": user_tags,
            "system_tags": sys_tags,
            "origin_run_id": origin_run_id,
            "run_id": run_id,
        }
        lease = None
        if held:
            from headwater.metadata_store.run_heartbeat import lease_seconds

            lease = body["lease_s"] = lease_seconds()
        self._now()
        answer = self._call("POST", "create_run", body=body)
        run = wire.run_from(answer["run"])
        if lease is not None and answer.get("created"):
            if self._heartbeat is None:
                from headwater.metadata_store.run_heartbeat import Heartbeat

                self._heartbeat = Heartbeat(self._renew)
            self._heartbeat.hold(flow, run.run_id, lease)
        return run

    def _renew(self, flow: str, run_id: str) -> None:
        from headwater.metadata_store.run_heartbeat import lease_seconds

        body = {"flow": flow, "run_id": run_id}
        self._call("POST", "heartbeat", body=body, retry_s=lease_seconds() / 3)

    def set_run_status(self, flow: str, run_id: str, status: RunStatus) -> None:
        """Set a run's status; any status but RUNNING also sets finished_at."""
        status = coerce(RunStatus, status)
        self._write("set_run_status", {"flow": flow, "run_id": run_id, "status": status.value})
        if status is not RunStatus.RUNNING and self._heartbeat is not None:
            self._heartbeat.release(flow, run_id)

    # --- tasks and attempts -------------------------------------------------------------------

    def create_task(
        self,
        flow: str,
        run_id: str,
        step: str,
        parents: Sequence[str] = (),
        foreach_index: int | None = None,
        origin_pathspec: str | None = None,
        task_id: str | None = None,
    ) -> TaskRecord:
        """Register a task (and its step, on first use); allocates the next task id of the run
        unless ``task_id`` is given. Inside a batch, with a ``task_id``, the record returned is
        built here (as the service will store it, unless the task existed already)."""
        check_name("step name", step)
        parent_list = check_parents(parents)
        if origin_pathspec is not None:
            check_pathspec("origin pathspec", origin_pathspec)
        if task_id is not None:
            task_id = check_name("task id", str(task_id))
        args = {
            "flow": flow,
            "run_id": run_id,
            "step": step,
            "parents": list(parent_list),
            "foreach_index": foreach_index,
            "origin_pathspec": origin_pathspec,
            "task_id": task_id,
        }
        if task_id is not None and self._in_batch():
            self._write("create_task", args)
            return TaskRecord(
                flow, run_id, step, task_id, TaskStatus.RUNNING, time.time(), None, 0, None,
                parent_list, foreach_index, origin_pathspec,
            )  # fmt: skip
        self._now()
        return wire.task_from(self._call("POST", "create_task", body=args))

    def start_attempt(self, flow: str, run_id: str, step: str, task_id: str, attempt: int) -> None:
        check_attempt(attempt)
        self._write(
            "start_attempt",
            {"flow": flow, "run_id": run_id, "step": step, "task_id": task_id, "attempt": attempt},
        )

    def finish_attempt(
        self,
        flow: str,
        run_id: str,
        step: str,
        task_id: str,
        attempt: int,
        status: TaskStatus,
        exception: str | None = None,
        traceback: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Close an attempt. SUCCEEDED also marks the task succeeded (successful_attempt,
        finished_at). ``metadata`` entries are stored as task metadata of that attempt."""
        check_attempt(attempt)
        status = coerce(TaskStatus, status)
        if status is TaskStatus.RUNNING:
            raise MetadataError("finish_attempt needs a final status: succeeded or failed")
        args = {
            "flow": flow,
            "run_id": run_id,
            "step": step,
            "task_id": task_id,
            "attempt": attempt,
            "status": status.value,
            "exception": exception,
            "traceback": traceback,
            "metadata": {str(k): str(v) for k, v in (metadata or {}).items()},
        }
        self._write("finish_attempt", args)

    def finish_task(
        self, flow: str, run_id: str, step: str, task_id: str, status: TaskStatus
    ) -> None:
        """Set the final status of a task (e.g. FAILED once retries are exhausted)."""
        status = coerce(TaskStatus, status)
        args = {"flow": flow, "run_id": run_id, "step": step, "task_id": task_id}
        self._write("finish_task", {**args, "status": status.value})

    def add_task_metadata(
        self,
        flow: str,
        run_id: str,
        step: str,
        task_id: str,
        attempt: int,
        entries: Mapping[str, str],
    ) -> None:
        check_attempt(attempt)
        args = {"flow": flow, "run_id": run_id, "step": step, "task_id": task_id}
        entries_json = {str(k): str(v) for k, v in entries.items()}
        self._write("add_task_metadata", {**args, "attempt": attempt, "entries": entries_json})

    # --- tags -------------------------------------------------------------------------------

    def add_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Add user tags (validated with headwater.core.tags); returns the updated run."""
        return self.replace_tags(flow, run_id, (), tags)

    def remove_tags(self, flow: str, run_id: str, tags: Iterable[str]) -> RunRecord:
        """Remove user tags; removing a system tag raises TagError."""
        return self.replace_tags(flow, run_id, tags, ())

    def replace_tags(
        self, flow: str, run_id: str, remove: Iterable[str], add: Iterable[str]
    ) -> RunRecord:
        """Remove then add, atomically."""
        body = {
            "flow": flow,
            "run_id": run_id,
            "add": validate_user_tags(add),
            "remove": check_tags_to_remove(remove),
        }
        self._now()
        return wire.run_from(self._call("POST", "update_tags", body=body))


class _Batch:
    """The context manager :meth:`ServiceMetadata.batch` returns."""

    __slots__ = ("_store", "_mine")

    def __init__(self, store: ServiceMetadata) -> None:
        self._store = store

    def __enter__(self) -> None:
        s = self._store
        me = (os.getpid(), _thread.get_ident())
        self._mine = s._batch_owner is None or s._batch_owner == me or s._batch_owner[0] != me[0]
        if not self._mine:  # another thread's batch is open: this one's writes go at once
            return
        if s._batch_owner != me:
            s._batch_owner, s._batch_depth, s._batch_ops = me, 0, []
        s._batch_depth += 1

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        s = self._store
        if not self._mine:
            return
        s._batch_depth -= 1
        if s._batch_depth:
            return
        try:
            s._flush()  # also when the block raised: the writes made before are kept
        finally:
            s._batch_owner = None
            s._batch_ops = []


def _error_body(data: bytes) -> dict[str, Any]:
    try:
        body = loads(data)
        return body if isinstance(body, dict) else {}
    except (ValueError, UnicodeDecodeError):
        return {}


def _error_text(status: int, data: bytes) -> str:
    message = _error_body(data).get("error")
    return f"HTTP {status}: {message}" if message else f"HTTP {status}"


def _error(status: int, body: dict[str, Any]) -> MetadataError | TagError:
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
