"""Who may do what on the metadata service: every authenticated user reads every run; only a
run's user writes it; the user comes from the token; no, bad or revoked tokens get 401; system
tags never change; hostile names are stored verbatim or refused; tokens stay out of the logs."""

from __future__ import annotations

import pytest
from http_helpers import request

from fixtures.service import cli
from headwater.exceptions import MetadataAuthError, NotRunOwner, TagError
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.metadata_store.service_client import ServiceMetadata


def test_each_user_reads_both_runs_and_writes_only_their_own(service_store):
    alice, bob = service_store("alice"), service_store("bob")
    a = alice.create_run("F", "alice", tags=["mine"])
    b = bob.create_run("F", "bob")
    task = bob.create_task("F", b.run_id, "start", task_id="1")
    bob.start_attempt("F", b.run_id, "start", "1", 0)
    for reader in (alice, bob):
        assert [r.run_id for r in reader.list_runs("F")] == [b.run_id, a.run_id]
        assert reader.get_run("F", b.run_id).user == "bob"
        assert reader.get_task("F", b.run_id, "start", "1") == bob.get_task(
            "F", b.run_id, "start", "1"
        )
    refused = [
        lambda: alice.set_run_status("F", b.run_id, RunStatus.FAILED),
        lambda: alice.create_task("F", b.run_id, "start"),
        lambda: alice.start_attempt("F", b.run_id, "start", task.task_id, 1),
        lambda: alice.finish_attempt("F", b.run_id, "start", task.task_id, 0, "failed"),
        lambda: alice.finish_task("F", b.run_id, "start", task.task_id, TaskStatus.FAILED),
        lambda: alice.add_task_metadata("F", b.run_id, "start", task.task_id, 0, {"k": "v"}),
        lambda: alice.add_tags("F", b.run_id, ["x"]),
        lambda: alice.remove_tags("F", b.run_id, ["x"]),
    ]
    for call in refused:
        with pytest.raises(NotRunOwner) as err:
            call()
        message = str(err.value)
        assert f"run F/{b.run_id} belongs to bob" in message and "\n" not in message
    with pytest.raises(NotRunOwner), alice.batch():  # refused inside a batch as well
        alice.create_task("F", a.run_id, "start", task_id="1")
        alice.start_attempt("F", b.run_id, "start", "1", 1)
    # bob's run is as bob left it; alice's write before the refused one was applied
    assert bob.get_run("F", b.run_id) == b
    assert [t.attempts for t in bob.list_tasks("F", b.run_id)] == [1]
    assert [t.task_id for t in alice.list_tasks("F", a.run_id)] == ["1"]
    # and bob writes his own run
    bob.finish_attempt("F", b.run_id, "start", "1", 0, TaskStatus.SUCCEEDED)
    bob.set_run_status("F", b.run_id, RunStatus.COMPLETED)
    assert alice.latest_successful_run("F").run_id == b.run_id


def test_the_run_belongs_to_the_tokens_user_whatever_the_client_says(
    service_store, metadata_service
):
    alice = service_store("alice")
    run = alice.create_run("F", "mallory", system_tags=["user:mallory", "runtime:dev"])
    assert run.user == "alice"
    assert run.system_tags == ("user:alice", "runtime:dev")
    assert alice.get_run("F", run.run_id) == run
    # a body naming a user is refused: the user comes from the token alone
    status, body = request(
        metadata_service.url,
        "POST",
        "create_run",
        metadata_service.tokens["alice"],
        body={"flow": "F", "user": "bob"},
    )
    assert status == 400 and "user" in body["error"]
    assert alice.whoami() == "alice"


def test_no_token_a_bad_token_or_a_revoked_token_is_401(metadata_service, monkeypatch):
    url = metadata_service.url
    assert request(url, "GET", "list_flows")[0] == 401
    assert request(url, "GET", "list_flows", "hw_not-a-real-token-at-all-000000000000")[0] == 401
    assert request(url, "GET", "list_flows", "")[0] == 401
    status, body = request(url, "POST", "create_run", "bad", body={"flow": "F"})
    assert status == 401 and "headwater service token create" in body["error"]

    token = cli("service", "token", "create", "carol", "--db", metadata_service.dsn).stdout.strip()
    assert request(url, "GET", "list_flows", token)[0] == 200
    revoked = cli("service", "token", "revoke", "carol", "--db", metadata_service.dsn)
    assert revoked.returncode == 0, revoked.stderr
    assert request(url, "GET", "list_flows", token)[0] == 401

    client = ServiceMetadata(url, token=token)
    with pytest.raises(MetadataAuthError) as err:
        client.list_flows()
    assert str(err.value) == (
        "the metadata service refused the token: create one with "
        "`headwater service token create USER` and set HEADWATER_SERVICE_TOKEN"
    )
    monkeypatch.delenv("HEADWATER_SERVICE_TOKEN", raising=False)
    with pytest.raises(MetadataAuthError, match="no token for the metadata service"):
        ServiceMetadata(url).list_flows()


def test_system_tags_can_never_be_changed_by_clients(service_store, metadata_service):
    alice = service_store("alice")
    run = alice.create_run("F", "alice", tags=["a"], system_tags=["runtime:dev"])
    for remove, add in (
        (["user:alice"], []),
        (["runtime:dev"], []),
        ([], ["user:bob"]),
        ([], ["runtime:x"]),
    ):
        with pytest.raises(TagError):
            alice.replace_tags("F", run.run_id, remove, add)
        # the same request sent raw, past the client's own checks
        status, body = request(
            metadata_service.url,
            "POST",
            "update_tags",
            metadata_service.tokens["alice"],
            body={"flow": "F", "run_id": run.run_id, "remove": remove, "add": add},
        )
        assert (status, body["kind"]) == (400, "TagError")
    assert alice.get_run("F", run.run_id) == run


HOSTILE = [
    "Robert'); DROP TABLE runs;--",
    "quote \" and ' and `back`",
    "naïve café ☕ 日本語 🙂",
    "percent %41 & amp ? q # hash + plus = eq",
    "  spaces  ",
    "semi;colon\ttab",
]


def test_names_tags_and_values_with_sql_quotes_and_unicode_are_stored_verbatim(service_store):
    alice, bob = service_store("alice"), service_store("bob")
    for i, text in enumerate(HOSTILE):
        flow = f"F{i}{text}"
        run = alice.create_run(flow, "alice", tags=[text], run_id=text)
        task = alice.create_task(
            flow, text, text, parents=[f"{flow}/{text}/{text}/0"], task_id=text
        )
        alice.start_attempt(flow, text, text, text, 0)
        alice.finish_attempt(
            flow,
            text,
            text,
            text,
            0,
            "failed",
            exception=text,
            traceback=text,
            metadata={text: text},
        )
        assert run.run_id == text and task.task_id == text
        assert bob.get_run(flow, text).tags == (text,)
        assert [r.run_id for r in bob.list_runs(flow, tags=[text])] == [text]
        assert bob.get_task(flow, text, text, text).parents == (f"{flow}/{text}/{text}/0",)
        (attempt,) = bob.list_attempts(flow, text, text, text)
        assert attempt.exception == text and attempt.traceback == text
        (entry,) = bob.get_task_metadata(flow, text, text, text)
        assert (entry.field, entry.value) == (text, text)
    assert sorted(f.flow for f in bob.list_flows()) == sorted(
        f"F{i}{t}" for i, t in enumerate(HOSTILE)
    )


@pytest.mark.parametrize("bad", ["..", ".", "a/b", "a\\b", "a\0b", ""])
def test_names_that_would_escape_a_path_are_refused_with_400(metadata_service, bad):
    metadata_service.empty()
    url, token = metadata_service.url, metadata_service.tokens["alice"]
    status, _ = request(url, "POST", "create_run", token, body={"flow": "F", "run_id": "1"})
    assert status == 200
    asks = [
        ("GET", "get_run", {"flow": bad, "run_id": "1"}, None),
        ("GET", "list_tasks", {"flow": "F", "run_id": bad}, None),
        ("GET", "get_task", {"flow": "F", "run_id": "1", "step": bad, "task_id": "1"}, None),
        ("POST", "create_run", None, {"flow": bad}),
        ("POST", "create_run", None, {"flow": "F", "run_id": bad}),
        ("POST", "create_task", None, {"flow": "F", "run_id": "1", "step": bad}),
        ("POST", "create_task", None, {"flow": "F", "run_id": "1", "step": "s", "task_id": bad}),
        ("POST", "set_run_status", None, {"flow": "F", "run_id": bad, "status": "failed"}),
    ]
    if bad:  # a pathspec with an empty part is a different mistake
        asks.append(
            (
                "POST",
                "create_task",
                None,
                {"flow": "F", "run_id": "1", "step": "s", "parents": [f"F/{bad}/s/1"]},
            )
        )
        asks.append(
            (
                "POST",
                "create_task",
                None,
                {"flow": "F", "run_id": "1", "step": "s", "origin_pathspec": f"F/1/{bad}/1"},
            )
        )
    for method, name, query, body in asks:
        status, answer = request(url, method, name, token, query=query, body=body)
        assert status == 400, (name, query, body, answer)
        assert "\n" not in answer["error"]
    status, tasks = request(url, "GET", "list_tasks", token, query={"flow": "F", "run_id": "1"})
    assert (status, tasks) == (200, [])


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on ``port``, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, state = fields[1], fields[3]
            host, _, hex_port = address.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(host)
    return found


def test_the_service_listens_on_loopback_only_by_default(metadata_service):
    # started without --host: 127.0.0.1 is 0100007F in /proc/net/tcp's byte order
    assert _listening_addresses(metadata_service.port) == {"0100007F"}


def test_tokens_never_appear_in_the_services_log(metadata_service):
    url, dsn = metadata_service.url, metadata_service.dsn
    revoked = cli("service", "token", "create", "dave", "--db", dsn).stdout.strip()
    cli("service", "token", "revoke", "dave", "--db", dsn)
    unknown = "hw_" + "x" * 43
    secrets = [metadata_service.tokens["alice"], metadata_service.tokens["bob"], revoked, unknown]
    for token in secrets:
        request(url, "GET", "whoami", token)
        request(url, "POST", "create_run", token, body={"flow": "LogFlow"})
        request(url, "GET", "list_runs", token, query={"flow": "LogFlow", "token": token})
        request(url, "GET", "list_flows", None, query={"access_token": token})
    log = metadata_service.log()
    assert "GET /v1/whoami" in log and "POST /v1/create_run" in log  # requests are logged
    for token in secrets:
        assert token not in log
        assert token[3:20] not in log
