"""Shared fixtures: every test runs against a fresh datastore root in a temp directory.

Test tiers: ``pytest -m "not slow"`` runs the fast tier. A test is ``slow`` when it is marked
so, or when it is the ``subprocess`` case of a test parametrized over ``executor`` (the same
test under the fork executor stays in the fast tier).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parent / "flows"

# Real parts other test packages use too: a PostgreSQL server, the metadata service, a real S3
# API server (s3_server, s3_bucket) and a fault-injecting proxy in front of it (fault_proxy), a
# Ray cluster, a scripted Kubernetes API server.
pytest_plugins = (
    "fixtures.postgres",
    "fixtures.service",
    "fixtures.s3",
    "fixtures.fault_proxy",
    "fixtures.ray_cluster",
    "fixtures.kube_api",
)


SETTINGS_VARIABLES = (
    "HEADWATER_DEFAULT_DATASTORE",
    "HEADWATER_DATASTORE_ROOT",
    "HEADWATER_DEFAULT_METADATA",
    "HEADWATER_SERVICE_URL",
    "HEADWATER_SERVICE_TOKEN",
    "HEADWATER_S3_ENDPOINT_URL",
    "HEADWATER_RAY_ADDRESS",
    "HEADWATER_KUBERNETES_IMAGE",
    "HEADWATER_KUBERNETES_NAMESPACE",
    "HEADWATER_KUBERNETES_SECRET",
    "HEADWATER_KUBERNETES_SECRETS",
    "HEADWATER_KUBERNETES_SERVICE_ACCOUNT",
    "HEADWATER_KUBERNETES_CONTEXT",
    "HEADWATER_KUBERNETES_ALLOW_LOCAL",
    "HEADWATER_KUBERNETES_PYTHON",
    "RAY_ADDRESS",
    "KUBECONFIG",
)


@pytest.fixture(autouse=True)
def _no_user_settings(tmp_path_factory, monkeypatch):
    """Tests never read the developer's settings file or store settings from their shell."""
    monkeypatch.setenv("HEADWATER_CONFIG", str(tmp_path_factory.getbasetemp() / "no-config.json"))
    for var in SETTINGS_VARIABLES:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def hw_root(tmp_path, monkeypatch):
    """A datastore root for this test; HEADWATER_ROOT points at it, USER is fixed."""
    root = tmp_path / ".headwater"
    monkeypatch.setenv("HEADWATER_ROOT", str(root))
    monkeypatch.setenv("HEADWATER_USER", "tester")
    monkeypatch.delenv("HEADWATER_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def run_flow(hw_root):
    """Run ``python <flow file> <args>`` with the test's root; returns CompletedProcess."""

    def run(flow_file: str | Path, *args: str, env: dict | None = None, timeout: float = 120):
        path = Path(flow_file)
        if not path.is_absolute():
            path = FLOWS / path
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, str(path), *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            cwd=hw_root.parent,
        )

    return run


@pytest.fixture
def client_state(monkeypatch):
    """The in-process client from a clean state: no provider chosen, no cached stores, no
    namespace chosen (so the default applies); cached stores are closed afterwards."""
    from headwater.client import namespaces, provider

    monkeypatch.setattr(provider, "_explicit", None)
    monkeypatch.setattr(provider, "_connections", {})
    monkeypatch.setattr(namespaces, "_current", namespaces.UNSET)
    yield
    for conn in provider._connections.values():
        conn.metadata.close()


@pytest.fixture
def client(hw_root, client_state):
    """The in-process client, clean, reading the test's root (which it returns)."""
    return hw_root


def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("executor") == "subprocess":
            item.add_marker(pytest.mark.slow)
