from __future__ import annotations

import pytest
from run_builder import RunBuilder

from headwater.client import namespaces, provider


@pytest.fixture(autouse=True)
def fresh_client(monkeypatch):
    """Each test starts with no provider chosen, no cached stores and the default namespace."""
    monkeypatch.setattr(provider, "_explicit_root", None)
    monkeypatch.setattr(provider, "_connections", {})
    monkeypatch.setattr(namespaces, "_current", namespaces.UNSET)
    monkeypatch.setenv("HEADWATER_USER", "alice")
    monkeypatch.delenv("HEADWATER_ROOT", raising=False)
    yield
    for conn in provider._connections.values():
        conn.metadata.close()


@pytest.fixture
def root(tmp_path):
    return tmp_path / ".headwater"


@pytest.fixture
def builder(root, monkeypatch):
    b = RunBuilder(root)
    monkeypatch.setenv("HEADWATER_ROOT", str(root))
    yield b
    b.close()
