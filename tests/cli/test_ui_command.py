"""``headwater ui``: starts on a root that has runs, refuses a root without metadata and a
non-loopback address without --allow-remote, each with one line; stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from headwater.cli.console import main
from headwater.metadata_store.sqlite import SqliteMetadata


@pytest.fixture
def root(tmp_path):
    root = tmp_path / ".headwater"
    md = SqliteMetadata(root / "metadata.db")
    md.create_run("HelloFlow", "ann")
    md.close()
    return root


def _start(*args: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("HEADWATER_ROOT", None)
    return subprocess.Popen(
        [sys.executable, "-m", "headwater.cli.console", "ui", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stop(proc: subprocess.Popen) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    return proc.returncode, out, err


def test_no_subcommand_prints_help_listing_ui(capsys):
    assert main([]) == 0
    assert "ui" in capsys.readouterr().out


def test_serves_the_root_until_ctrl_c(root):
    proc = _start("--root", str(root))
    try:
        line = proc.stdout.readline()
        assert line.startswith("headwater UI at http://127.0.0.1:"), line
        url = line.split()[3]
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200 and "HelloFlow" in resp.read().decode()
    finally:
        code, _, err = _stop(proc)
    assert code == 0 and err == ""


def test_a_project_directory_means_its_dot_headwater(root):
    proc = _start("--root", str(root.parent))
    try:
        assert f"(reading {root})" in proc.stdout.readline()
    finally:
        code, _, _ = _stop(proc)
    assert code == 0


def test_root_without_metadata_is_one_line_error(tmp_path, capsys):
    assert main(["ui", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no headwater metadata at" in err and "--root" in err


def test_no_root_found_is_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HEADWATER_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["ui"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--root" in err


def test_non_loopback_address_needs_allow_remote(root, capsys):
    assert main(["ui", "--root", str(root), "--host", "0.0.0.0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-remote" in err


def test_allow_remote_warns(root):
    proc = _start("--root", str(root), "--host", "0.0.0.0", "--allow-remote")
    try:
        assert proc.stdout.readline().startswith("headwater UI at http://0.0.0.0:")
    finally:
        code, _, err = _stop(proc)
    assert code == 0 and "warning: serving on 0.0.0.0" in err


def test_port_in_use_is_one_line_error(root, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["ui", "--root", str(root), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err
