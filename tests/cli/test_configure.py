"""`headwater configure` writes the settings file every command and the client then read."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from headwater import Run, metadata, namespace


def configure(*args, env=None, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "headwater.cli.console", "configure", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    path = tmp_path / "cfg" / "config.json"
    monkeypatch.setenv("HEADWATER_CONFIG", str(path))
    return path


def test_options_write_a_private_file_that_show_reads_back(settings_file):
    proc = configure(
        "--metadata", "service", "--service-url", "http://hw.example:8325",
        "--service-token", "secret-token-1234",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(settings_file.read_text()) == {
        "HEADWATER_DEFAULT_METADATA": "service",
        "HEADWATER_SERVICE_URL": "http://hw.example:8325",
        "HEADWATER_SERVICE_TOKEN": "secret-token-1234",
    }
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
    shown = configure("show").stdout
    assert "secret-token-1234" not in shown and "****1234" in shown
    assert "http://hw.example:8325" in shown and "(settings file)" in shown
    # the environment wins over the file, and show says so
    over = configure("show", env={"HEADWATER_SERVICE_URL": "http://other:1"}).stdout
    line = next(x for x in over.splitlines() if "HEADWATER_SERVICE_URL" in x)
    assert "http://other:1" in line and "(environment)" in line


def test_values_not_given_are_kept_and_empty_ones_removed(settings_file):
    configure("--datastore-root", "/data/hw", "--s3-endpoint-url", "http://s3:9000")
    configure("--s3-endpoint-url", "")
    assert json.loads(settings_file.read_text()) == {"HEADWATER_DATASTORE_ROOT": "/data/hw"}


def test_the_token_can_come_from_standard_input(settings_file):
    proc = configure("--service-token", "-", stdin="from-stdin-9999\n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(settings_file.read_text())["HEADWATER_SERVICE_TOKEN"] == "from-stdin-9999"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--datastore", "floppy"], "no datastore named 'floppy'"),
        (["--datastore", "local", "--metadata", "ldap"], "no metadata named 'ldap'"),
        (["--metadata", "service"], "needs its URL"),
        ([], "configure needs values"),
    ],
)
def test_bad_settings_are_refused_in_one_line_and_nothing_is_written(settings_file, args, message):
    proc = configure(*args, stdin="")
    assert proc.returncode == 1
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not settings_file.exists()


def test_a_broken_settings_file_is_a_one_line_error(settings_file, run_flow):
    settings_file.parent.mkdir()
    settings_file.write_text("{not json")
    proc = run_flow("linear.py", "run")
    assert proc.returncode == 1
    assert str(settings_file) in proc.stderr and "headwater configure" in proc.stderr


def test_runs_and_the_client_use_the_settings_file(settings_file, run_flow, tmp_path, monkeypatch):
    store = tmp_path / "team-store"
    configure("--datastore", "local", "--datastore-root", str(store))
    monkeypatch.delenv("HEADWATER_ROOT")
    proc = run_flow("linear.py", "run")
    assert proc.returncode == 0, proc.stderr
    assert (store / "metadata.db").exists()
    metadata("local")
    namespace(None)
    assert Run("LinearFlow/1").successful
