"""@secrets: sources read by providers become the task's environment variables, only in the
decorated step, and their values are never saved or printed by headwater."""

from __future__ import annotations

import json
import re

import pytest

from headwater import Flow, namespace
from headwater.exceptions import InvalidFlow, SecretsError
from headwater.plugins.secret_providers import SecretsProvider, register_secrets_provider
from headwater.plugins.secrets import SecretsDecorator, parse_source, read_secrets

TOKEN = "tok-9f8e7d6c5b4a"
FILE_PASSWORD = "pw-from-a-dotenv-file"
JSON_KEY = "key-from-a-json-file"


@pytest.fixture
def secret_files(hw_root):
    folder = hw_root.parent
    (folder / "secrets.env").write_text(
        f"# a comment\nexport FILE_PASSWORD='{FILE_PASSWORD}'\n\n", encoding="utf-8"
    )
    (folder / "secrets.json").write_text(json.dumps({"JSON_KEY": JSON_KEY}), encoding="utf-8")
    return folder


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_secrets_reach_the_decorated_steps_only(run_flow, client, secret_files, executor):
    proc = run_flow("secrets_flow.py", "run", "--executor", executor, env={"HW_TEST_TOKEN": TOKEN})
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    run = Flow("SecretsFlow")[re.search(r"Run (\d+) of", proc.stderr).group(1)]
    start = run["start"].task.data
    assert start.present == ["API_TOKEN", "DB_USER"]
    assert start.user_ok and start.token_ok
    files = run["from_files"].task.data
    assert files.file_present == ["FILE_PASSWORD", "JSON_KEY"]
    assert files.file_lengths == {"FILE_PASSWORD": len(FILE_PASSWORD), "JSON_KEY": len(JSON_KEY)}
    assert run["end"].task.data.end_present == []
    # Nothing headwater wrote (artifacts, logs, cards, metadata) holds a secret value.
    for path in secret_files.joinpath(".headwater").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for value in (TOKEN, FILE_PASSWORD, JSON_KEY):
                assert value.encode() not in data, f"{value} found in {path}"
    for value in (TOKEN, FILE_PASSWORD, JSON_KEY):
        assert value not in proc.stdout + proc.stderr


def test_a_missing_source_fails_the_task_naming_the_source(
    run_flow, hw_root, secret_files, monkeypatch
):
    monkeypatch.delenv("HW_TEST_TOKEN", raising=False)
    proc = run_flow("secrets_flow.py", "run")
    assert proc.returncode == 1
    assert "SecretsError: env secret 'HW_TEST_TOKEN'" in proc.stderr
    assert "export it first" in proc.stderr


def test_sources_are_checked_when_the_flow_is_read():
    with pytest.raises(InvalidFlow, match="takes a list of sources"):
        SecretsDecorator({"sources": "env.X"})
    with pytest.raises(InvalidFlow, match="names no type"):
        parse_source("JUST_AN_ID", None)
    assert parse_source("env.A", "r").role == "r"
    assert parse_source({"type": "inline", "id": "x", "role": "own"}, "r").role == "own"


def test_two_sources_setting_one_variable_is_an_error():
    a = parse_source({"type": "inline", "id": "a", "options": {"env_vars": {"X": "1"}}}, None)
    b = parse_source({"type": "inline", "id": "b", "options": {"env_vars": {"X": "2"}}}, None)
    with pytest.raises(SecretsError, match="both set X") as info:
        read_secrets([a, b])
    assert "1" not in str(info.value).replace("a (inline)", "")


def test_a_registered_provider_is_used_and_its_errors_hide_details():
    @register_secrets_provider
    class Vault(SecretsProvider):
        TYPE = "test_vault"

        def get_secret_as_dict(self, secret_id, options=None, role=None):
            if secret_id == "broken":
                raise RuntimeError("connection to vault with password hunter2 failed")
            return {"VAULT_" + secret_id.upper(): f"{secret_id}-{role}"}

    assert read_secrets([parse_source("test_vault.db", "reader")]) == {"VAULT_DB": "db-reader"}
    with pytest.raises(SecretsError) as info:
        read_secrets([parse_source("test_vault.broken", None)])
    assert "hunter2" not in str(info.value) and "broken (test_vault)" in str(info.value)
    with pytest.raises(SecretsError, match="no secrets provider for the source type 'nope'"):
        read_secrets([parse_source("nope.x", None)])
