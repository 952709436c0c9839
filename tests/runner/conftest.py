"""Fixtures for Runner tests: the in-process client reads the test's root from a clean state."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.client import namespaces, provider

FLOWS = Path(__file__).resolve().parents[1] / "flows"


@pytest.fixture
def client(hw_root, monkeypatch):
    monkeypatch.setattr(provider, "_explicit_root", None)
    monkeypatch.setattr(provider, "_connections", {})
    monkeypatch.setattr(namespaces, "_current", namespaces.UNSET)
    yield hw_root
    for conn in provider._connections.values():
        conn.metadata.close()


@pytest.fixture
def runner_flow(client):
    return FLOWS / "runner_flow.py"
