"""Two people on one team's stores: each sees their own runs by default and both with
namespace(None); one cannot change the other's run, but can resume it; the Runner, cards and
the web UI read the team's stores."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request

import pytest
from team_setups import SETUPS, team_env

from headwater import Flow, Run, Runner, namespace
from headwater.exceptions import NotRunOwner

pytestmark = pytest.mark.slow


def _run_id(stderr: str, flow: str) -> str:
    return re.search(rf"[Rr]un (\S+) of {flow}", stderr).group(1)


def _client(monkeypatch, env: dict) -> dict:
    """Point this process's client at the team's stores as ``env``'s user (for this test)."""
    from headwater.client import provider

    for var, value in env.items():
        monkeypatch.setenv(var, value)
    provider._connections.clear()
    provider._explicit = None
    namespace(None)
    return env


@pytest.fixture
def clean_client(monkeypatch):
    from headwater.client import namespaces, provider

    for var in ("HEADWATER_DEFAULT_METADATA", "HEADWATER_SERVICE_URL", "HEADWATER_SERVICE_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(provider, "_explicit", None)
    monkeypatch.setattr(provider, "_connections", {})
    monkeypatch.setattr(namespaces, "_current", namespaces.UNSET)
    yield monkeypatch


@pytest.mark.parametrize("setup", SETUPS)
def test_two_users_see_their_own_runs_and_change_only_their_own(
    setup, request, run_flow, clean_client
):
    alice, bob = team_env(request, setup, "alice"), team_env(request, setup, "bob")
    request.getfixturevalue("metadata_service").empty()
    a = run_flow("linear.py", "run", env=alice)
    b = run_flow("linear.py", "run", env=bob)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    a_id, b_id = _run_id(a.stderr, "LinearFlow"), _run_id(b.stderr, "LinearFlow")

    for env, mine in ((alice, a_id), (bob, b_id)):
        for var, value in env.items():
            clean_client.setenv(var, value)
        from headwater.client import namespaces, provider

        provider._connections.clear()
        namespaces._current = namespaces.UNSET  # the default namespace: user:<me>
        assert [r.id for r in Flow("LinearFlow").runs()] == [mine]
        namespace(None)
        assert {r.id for r in Flow("LinearFlow").runs()} == {a_id, b_id}

    # bob (the environment now) may read alice's run, not change it
    theirs = Run(f"LinearFlow/{a_id}")
    assert theirs.successful and theirs.data.x == 2
    with pytest.raises(NotRunOwner) as e:
        theirs.add_tag("not mine")
    assert "\n" not in str(e.value) and "alice" in str(e.value)
    tag = run_flow("linear.py", "tag", "add", "--run-id", a_id, "nope", env=bob)
    assert tag.returncode == 1 and "alice" in tag.stderr and "Traceback" not in tag.stderr


@pytest.mark.parametrize("setup", SETUPS)
def test_bob_resumes_alices_failed_run(setup, request, run_flow, clean_client):
    alice, bob = team_env(request, setup, "alice"), team_env(request, setup, "bob")
    failed = run_flow("resumable_flow.py", "run", env={**alice, "FAIL_AT": "b"})
    assert failed.returncode == 1
    origin = _run_id(failed.stderr, "ResumableFlow")
    resumed = run_flow("resumable_flow.py", "resume", "--origin-run-id", origin, env=bob)
    assert resumed.returncode == 0, resumed.stderr
    assert "Cloned from" in resumed.stderr
    new_id = _run_id(resumed.stderr.split("\n", 1)[1], "ResumableFlow")
    _client(clean_client, bob)
    run = Run(f"ResumableFlow/{new_id}")
    assert run.successful and "user:bob" in run.system_tags
    assert run.origin_pathspec == f"ResumableFlow/{origin}"


@pytest.mark.parametrize("setup", SETUPS)
def test_the_runner_and_cards_read_the_team_stores(setup, request, hw_root, clean_client):
    from graph_shapes import FLOWS

    alice = team_env(request, setup, "alice")
    with Runner(str(FLOWS / "card_flow.py"), show_output=False, env=alice) as runner:
        done = runner.run()
        assert done.status == "successful", done.stderr
        run = done.run
        assert run.successful
        cards = subprocess.run(
            [sys.executable, str(FLOWS / "card_flow.py"), "card", "get", f"{run.id}/start"],
            capture_output=True,
            text=True,
            env={**os.environ, **alice},
        )
        assert cards.returncode == 0 and "<html" in cards.stdout.lower(), cards.stderr


@pytest.mark.parametrize("setup", SETUPS)
def test_the_web_ui_reads_the_team_stores(setup, request, run_flow, clean_client):
    alice = team_env(request, setup, "alice")
    made = run_flow("foreach.py", "run", env=alice)
    assert made.returncode == 0, made.stderr
    run_id = _run_id(made.stderr, "ForeachFlow")
    _client(clean_client, alice)
    from headwater.stores import open_stores
    from headwater.ui.server import make_server

    server = make_server(open_stores(), "127.0.0.1", 0)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(f"{server.url}run/ForeachFlow/{run_id}") as page:
            html = page.read().decode()
        assert "square" in html and "join" in html
        with urllib.request.urlopen(f"{server.url}flow/ForeachFlow") as page:
            assert run_id in page.read().decode()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("setup", SETUPS)
def test_nbrunner_runs_on_the_team_stores(setup, request, hw_root, clean_client):
    from graph_shapes import FLOWS

    alice = team_env(request, setup, "alice")
    clean_client.syspath_prepend(str(FLOWS))
    import linear

    from headwater import NBRunner

    with NBRunner(linear.LinearFlow, show_output=False, env=alice) as nbr:
        running = nbr.run()
    assert running.status == "successful", running.stderr
    run = running.run
    assert run.data.y == 4 and "user:alice" in run.system_tags
    assert run._conn.provider.startswith("service@")
