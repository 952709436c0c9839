from __future__ import annotations

import pytest
from run_builder import RunBuilder


@pytest.fixture(autouse=True)
def fresh_client(client_state, monkeypatch):
    """Each test starts with no provider chosen, no cached stores and the default namespace."""
    monkeypatch.setenv("HEADWATER_USER", "alice")
    monkeypatch.delenv("HEADWATER_ROOT", raising=False)


@pytest.fixture
def root(tmp_path):
    return tmp_path / ".headwater"


@pytest.fixture
def builder(root, monkeypatch):
    b = RunBuilder(root)
    monkeypatch.setenv("HEADWATER_ROOT", str(root))
    yield b
    b.close()
