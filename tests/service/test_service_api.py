"""The service's HTTP API as published: FastAPI's OpenAPI spec lists one endpoint per call of
the MetadataStore protocol (reads GET, writes POST), bodies that never name a user, and the
token header; the token commands of ``headwater service``."""

from __future__ import annotations

import json
import urllib.request

from fixtures.service import cli
from headwater.metadata_store.store import MetadataStore

READS = [
    "list_flows",
    "get_flow",
    "get_run",
    "list_runs",
    "latest_run",
    "latest_successful_run",
    "list_steps",
    "list_tasks",
    "get_task",
    "list_attempts",
    "get_task_metadata",
    "step_metadata",
    "whoami",
    "health",
]
WRITES = [
    "create_run",
    "set_run_status",
    "heartbeat",
    "create_task",
    "start_attempt",
    "finish_attempt",
    "finish_task",
    "add_task_metadata",
    "update_tags",
    "batch",
]


def _spec(url):
    with urllib.request.urlopen(url + "/openapi.json", timeout=30) as answer:
        return json.loads(answer.read())


def test_the_openapi_spec_has_an_endpoint_for_every_call(metadata_service):
    spec = _spec(metadata_service.url)
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    assert sorted(paths) == sorted(f"/v1/{name}" for name in READS + WRITES)
    for name in READS:
        assert list(paths[f"/v1/{name}"]) == ["get"], name
    for name in WRITES:
        assert list(paths[f"/v1/{name}"]) == ["post"], name
    # every call of the protocol is served, by its own name or through update_tags / batch
    calls = {n for n in vars(MetadataStore) if not n.startswith("_")} - {"close", "batch"}
    tag_calls = {"add_tags", "remove_tags", "replace_tags"}
    assert calls - tag_calls <= set(READS + WRITES)


def test_the_spec_documents_tokens_and_bodies_without_a_user(metadata_service):
    spec = _spec(metadata_service.url)
    schemas = spec["components"]["schemas"]
    for name in WRITES:
        operation = spec["paths"][f"/v1/{name}"]["post"]
        headers = {
            p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"
        }
        assert {"authorization", "idempotency-key"} <= headers, name
        assert {"401", "403"} <= set(operation["responses"]), name
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        assert "user" not in body["properties"] and "username" not in body["properties"]
        assert body.get("additionalProperties") is False  # a user (or anything) extra is refused
    run = schemas["RunOut"]["properties"]
    assert {"flow", "run_id", "user", "status", "tags", "system_tags"} <= set(run)
    get_run = spec["paths"]["/v1/get_run"]["get"]
    assert {p["name"] for p in get_run["parameters"] if p["in"] == "query"} == {"flow", "run_id"}


def test_token_create_list_and_revoke(metadata_service):
    dsn = metadata_service.dsn
    first = cli("service", "token", "create", "erin", "--db", dsn)
    second = cli("service", "token", "create", "erin", "--db", dsn)
    assert first.returncode == 0 and second.returncode == 0
    token = first.stdout.strip()
    assert token.startswith("hw_") and len(token) == 46 and first.stdout.count("\n") == 1
    assert token != second.stdout.strip()
    assert "shown this once" in first.stderr

    listing = cli("service", "token", "list", "--db", dsn)
    erin = [line for line in listing.stdout.splitlines() if "  erin  " in line]
    assert len(erin) == 2 and all("active" in line for line in erin)
    assert token not in listing.stdout  # only ids, never tokens

    # revoke one token by its id, then every token of the user
    first_id = erin[0].split()[0]
    assert first_id.startswith("tok_")
    assert cli("service", "token", "revoke", first_id, "--db", dsn).returncode == 0
    after = cli("service", "token", "list", "--db", dsn).stdout
    assert sum("  erin  " in line and "revoked" in line for line in after.splitlines()) == 1
    assert cli("service", "token", "revoke", "erin", "--db", dsn).returncode == 0
    again = cli("service", "token", "revoke", "erin", "--db", dsn)
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "no active token" in again.stderr

    # the tokens are kept hashed: the database never holds one
    import psycopg

    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT token_sha256 FROM service_tokens").fetchall()
    assert stored and all(len(h) == 64 and h != token for (h,) in stored)


def test_commands_without_a_database_or_extras_say_what_to_do(monkeypatch):
    monkeypatch.delenv("HEADWATER_SERVICE_DB", raising=False)
    done = cli("service", "token", "list")
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "--db postgresql://" in done.stderr and "HEADWATER_SERVICE_DB" in done.stderr
    done = cli("service", "--db", "mysql://x")
    assert done.returncode == 1 and "not a PostgreSQL URL" in done.stderr


def test_a_missing_extra_is_a_one_line_error_naming_it(tmp_path):
    import subprocess
    import sys

    for blocked, code in (
        ("fastapi", "main(['service', '--db', 'postgresql://u@127.0.0.1:1/x'])"),
        ("psycopg", "main(['service', 'token', 'list', '--db', 'postgresql://u@127.0.0.1:1/x'])"),
    ):
        script = (
            f"import sys; sys.modules[{blocked!r}] = None\n"
            "from headwater.cli.console import main\n"
            f"sys.exit({code})\n"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1
        assert blocked in done.stderr and "pip install 'headwater[service]'" in done.stderr

    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from headwater.metadata_store.postgres import PostgresMetadata\n"
        "PostgresMetadata('postgresql://u@127.0.0.1:1/x').list_flows()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "MetadataError: the PostgreSQL metadata store needs psycopg" in done.stderr
    assert "pip install 'headwater[service]'" in done.stderr


def test_several_worker_processes_serve_the_same_database(postgres, tmp_path):
    from fixtures.service import ServiceProcess
    from headwater.metadata_store.service_client import ServiceMetadata

    dsn = postgres.create_database("workers")
    service = ServiceProcess(dsn, tmp_path / "service.log").add_users("alice")
    service.start("--workers", "2")
    try:
        stores = [ServiceMetadata(service.url, service.tokens["alice"]) for _ in range(4)]
        runs = [s.create_run("F", "alice").run_id for s in stores]  # 4 connections, 2 workers
        assert sorted(runs) == ["1", "2", "3", "4"]
        assert [r.run_id for r in stores[0].list_runs("F")] == ["4", "3", "2", "1"]
        for s in stores:
            s.close()
    finally:
        service.stop()
    assert service.proc.returncode is not None
