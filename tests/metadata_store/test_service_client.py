"""The metadata service's client, beyond the contract: one request per call, batches sent as
one request, retries that never apply a write twice, one-line errors, pickling without the
token, fork-safety."""

from __future__ import annotations

import os
import pickle
import socket
import threading
import time

import pytest

from fixtures.postgres import free_port
from headwater.exceptions import MetadataError, MetadataUnavailable
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.metadata_store.service_client import ServiceMetadata


def _count_requests(store):
    sent = []
    connection = store._service  # service_connection.ServiceConnection
    original = connection._send

    def counting(method, target, headers, body):
        sent.append(f"{method} {target.split('?')[0]}")
        return original(method, target, headers, body)

    connection._send = counting
    return sent


def test_every_read_is_one_request(service_store):
    store = service_store()
    for _ in range(5):
        store.create_run("F", "alice", tags=["t"])
    sent = _count_requests(store)
    store.list_runs("F", tags=["t"], status=RunStatus.RUNNING, limit=3)
    store.latest_successful_run("F", ["t"])
    store.get_run("F", "1")
    store.list_tasks("F", "1")
    assert sent == [
        "GET /v1/list_runs",
        "GET /v1/latest_successful_run",
        "GET /v1/get_run",
        "GET /v1/list_tasks",
    ]


def test_a_batch_is_sent_as_one_request_when_it_ends(service_store):
    store = service_store()
    run = store.create_run("F", "alice")
    sent = _count_requests(store)
    with store.batch():
        for n in range(1, 21):
            task = store.create_task("F", run.run_id, "body", task_id=str(n), parents=["F/1/a/0"])
            assert (task.task_id, task.parents, task.attempts) == (str(n), ("F/1/a/0",), 0)
            store.start_attempt("F", run.run_id, "body", str(n), 0)
            store.finish_attempt("F", run.run_id, "body", str(n), 0, "succeeded", metadata={"n": n})
        assert sent == []
    assert sent == ["POST /v1/batch"]
    tasks = store.list_tasks("F", run.run_id)
    assert [t.task_id for t in tasks] == [str(n) for n in range(1, 21)]
    assert all(t.status is TaskStatus.SUCCEEDED for t in tasks)
    # a call that needs the service's answer sends the queue first, then runs at once
    sent.clear()
    with store.batch():
        store.start_attempt("F", run.run_id, "body", "1", 1)
        allocated = store.create_task("F", run.run_id, "end")
        assert allocated.task_id == "21"
    assert sent == ["POST /v1/batch", "POST /v1/create_task"]


class _ResponseDropper:
    """A loopback proxy to the service that, the first time it sees each write (each
    Idempotency-Key), forwards the request, waits for the service's answer, then closes the
    client's connection instead of relaying it: the write is committed, the client never
    hears so and sends it again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.dropped: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        with client, upstream:
            while True:
                request = self._read_message(client)
                if not request:
                    return
                upstream.sendall(request)
                answer = self._read_message(upstream)
                key = [h for h in request.split(b"\r\n") if h.startswith(b"Idempotency-Key:")]
                if key and key[0] not in self.dropped:
                    self.dropped.append(key[0])
                    return  # the answer is lost
                client.sendall(answer)

    @staticmethod
    def _read_message(sock):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return b""
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            body += sock.recv(65536)
        return head + b"\r\n\r\n" + body

    def close(self):
        self.listener.close()


def test_a_write_retried_after_the_service_committed_it_is_applied_once(
    service_store, metadata_service
):
    proxy = _ResponseDropper(metadata_service.port)
    store = ServiceMetadata(f"http://127.0.0.1:{proxy.port}", metadata_service.tokens["alice"])
    try:
        run = store.create_run("F", "alice")  # no explicit id: a retry must not make a second
        task = store.create_task("F", run.run_id, "start")  # nor a second task
        store.start_attempt("F", run.run_id, "start", task.task_id, 0)
        store.add_task_metadata("F", run.run_id, "start", task.task_id, 0, {"k": "v"})
        with store.batch():
            store.finish_attempt(
                "F", run.run_id, "start", task.task_id, 0, "succeeded", metadata={"m": "1"}
            )
            store.set_run_status("F", run.run_id, RunStatus.COMPLETED)
        assert len(proxy.dropped) == 5  # every write's first answer was lost
    finally:
        store.close()
        proxy.close()
    reader = service_store()
    assert [r.run_id for r in reader.list_runs("F")] == ["1"]
    assert [t.task_id for t in reader.list_tasks("F", "1")] == ["1"]
    entries = reader.get_task_metadata("F", "1", "start", "1")
    assert [(e.field, e.value) for e in entries] == [("k", "v"), ("m", "1")]
    assert reader.get_run("F", "1").status is RunStatus.COMPLETED


def test_an_unreachable_service_is_a_one_line_error_after_the_retry_time(monkeypatch):
    monkeypatch.setenv("HEADWATER_SERVICE_RETRY_S", "0.5")
    url = f"http://127.0.0.1:{free_port()}"
    store = ServiceMetadata(url, token="hw_whatever")
    started = time.monotonic()
    with pytest.raises(MetadataUnavailable) as err:
        store.create_run("F", "alice")
    assert 0.5 <= time.monotonic() - started < 5
    message = str(err.value)
    assert message.startswith(f"cannot reach the metadata service at {url} (")
    assert message.endswith(
        "start it with `headwater service --db ...` or check HEADWATER_SERVICE_URL"
    )
    assert "\n" not in message


def test_a_bad_url_is_a_one_line_error():
    with pytest.raises(MetadataError, match="is not valid: use http://HOST:PORT"):
        ServiceMetadata("127.0.0.1:8325", token="x")


def test_a_pickled_client_carries_the_url_and_the_setting_not_the_token(
    service_store, metadata_service, monkeypatch
):
    store = service_store("alice")
    store.create_run("F", "alice")
    data = pickle.dumps(store)
    assert metadata_service.tokens["alice"].encode() not in data
    monkeypatch.setenv("HEADWATER_SERVICE_TOKEN", metadata_service.tokens["bob"])
    copy = pickle.loads(data)  # reads the token where the copy runs
    assert copy.url == store.url
    assert copy.whoami() == "bob"
    copy.close()


def test_a_forked_child_uses_its_own_connection(service_store):
    store = service_store()
    run = store.create_run("F", "alice")
    store.get_run("F", run.run_id)  # the parent's connection is open
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            task = store.create_task("F", run.run_id, "start")
            os.write(write, task.task_id.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        child_task = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and child_task == "1"
    assert store.create_task("F", run.run_id, "start").task_id == "2"  # parent's still works


def test_a_held_runs_heartbeat_runs_only_in_the_process_that_created_it(service_store, monkeypatch):
    monkeypatch.setenv("HEADWATER_RUN_LEASE_S", "1")
    store = service_store()
    run = store.create_run("F", "alice", held=True)
    beating = [t for t in threading.enumerate() if t.name == "headwater-run-heartbeat"]
    assert len(beating) == 1 and beating[0].daemon
    pid = os.fork()
    if pid == 0:  # the child holds nothing and renews nothing
        ok = store._heartbeat.held() == [] and not any(
            t.name == "headwater-run-heartbeat" for t in threading.enumerate()
        )
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    time.sleep(2.5)  # the parent's thread keeps the lease alive
    assert store.get_run("F", run.run_id).status is RunStatus.RUNNING
    store.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    assert store._heartbeat.held() == []


def test_the_client_rides_out_a_restart_of_postgresql(tmp_path, monkeypatch):
    """The service answers 503 while its database is down; the client retries until it is back."""
    from fixtures.postgres import PostgresCluster, find_bin_dir
    from fixtures.service import ServiceProcess

    if find_bin_dir() is None:
        pytest.skip("PostgreSQL is not installed")
    monkeypatch.setenv("HEADWATER_SERVICE_RETRY_S", "90")
    cluster = PostgresCluster(find_bin_dir()).init().start()
    try:
        cluster.wait_ready()
        dsn = cluster.create_database("restart")
        service = ServiceProcess(dsn, tmp_path / "service.log").add_users("alice").start()
        store = ServiceMetadata(service.url, service.tokens["alice"])
        run = store.create_run("F", "alice")
        cluster.stop("fast")  # (the test cluster commits asynchronously: a crash may lose it)
        result, errors = [], []

        def write():
            try:
                result.append(store.create_task("F", run.run_id, "start"))
            except Exception as exc:  # pragma: no cover - what the test looks for
                errors.append(exc)

        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(2.0)
        assert thread.is_alive()  # still retrying
        cluster.start()
        thread.join(120)
        assert errors == [] and [t.task_id for t in result] == ["1"]
        assert [t.task_id for t in store.list_tasks("F", run.run_id)] == ["1"]
        assert " 503" in service.log()  # it did answer "unavailable" meanwhile
        store.close()
        service.stop()
    finally:
        cluster.remove()


def test_a_client_lookup_loads_no_heavy_module(service_store, metadata_service, tmp_path):
    """The client's path stays light, as a user reads through Flow(): no json, re, socket,
    http.client, email, ssl or typing, none of the modules a named tuple or importlib brings
    (collections, operator, importlib, warnings), and nothing of the server side."""
    import subprocess
    import sys

    store = service_store()
    run = store.create_run("F", "alice")
    store.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    code = (
        "from headwater import Flow, namespace\n"
        "namespace(None)\n"
        "assert Flow('F').latest_successful_run.id == '1'\n"
        "assert [r.id for r in Flow('F').runs()] == ['1']\n"
        "import sys\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    env = {
        **os.environ,
        "HEADWATER_DEFAULT_METADATA": "service",
        "HEADWATER_SERVICE_URL": metadata_service.url,
        "HEADWATER_DEFAULT_DATASTORE": "s3",
        "HEADWATER_DATASTORE_ROOT": "s3://never-read/prefix",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    loaded = set(done.stdout.split())
    heavy = {"json", "re", "socket", "http", "http.client", "email", "ssl", "typing", "enum"}
    heavy |= {"collections", "operator", "importlib", "warnings", "types"}
    heavy |= {"inspect", "dataclasses", "psycopg", "fastapi", "uvicorn", "pydantic", "threading"}
    assert sorted(loaded & heavy) == []
