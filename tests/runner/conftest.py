"""Fixtures for Runner tests: the in-process client reads the test's root from a clean state."""

from __future__ import annotations

from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parents[1] / "flows"


@pytest.fixture
def runner_flow(client):
    return FLOWS / "runner_flow.py"
