"""Fixtures for end-to-end tests that run flows as different users and read the results back
with the in-process client (helpers in flow_runs.py)."""

from __future__ import annotations

import pytest

from headwater.client import namespaces


@pytest.fixture
def run_as(run_flow):
    """``run_as(user, flow_file, *args)``: run a command as HEADWATER_USER=user."""

    def run(user: str, flow_file: str, *args: str, env: dict | None = None):
        return run_flow(flow_file, *args, env={"HEADWATER_USER": user, **(env or {})})

    return run


@pytest.fixture
def client_as(client, monkeypatch):
    """``client_as(user)``: the in-process client, reading the test's root, as that user, with
    no namespace chosen yet (so the default, ``user:<user>``, applies)."""

    def use(user: str) -> None:
        monkeypatch.setenv("HEADWATER_USER", user)
        monkeypatch.setattr(namespaces, "_current", namespaces.UNSET)

    return use
