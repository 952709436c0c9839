"""Metaflow's store variables, honoured through the compatibility package only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from headwater.metaflow_compat.metaflow_settings import use_metaflow_settings

STYLE = Path(__file__).resolve().parents[1] / "flows" / "metaflow_style"


def test_metaflow_variables_fill_unset_headwater_settings():
    env = {
        "METAFLOW_DEFAULT_DATASTORE": "s3",
        "METAFLOW_DATASTORE_SYSROOT_S3": "s3://team/mf",
        "METAFLOW_S3_ENDPOINT_URL": "http://minio:9000",
        "METAFLOW_DEFAULT_METADATA": "service",
        "METAFLOW_SERVICE_URL": "http://md:8080",
        "HEADWATER_SERVICE_URL": "http://ours:8325",  # headwater's own wins
    }
    given = use_metaflow_settings(env)
    assert given == {
        "HEADWATER_DEFAULT_DATASTORE": "s3",
        "HEADWATER_DATASTORE_ROOT": "s3://team/mf",
        "HEADWATER_S3_ENDPOINT_URL": "http://minio:9000",
        "HEADWATER_DEFAULT_METADATA": "service",
    }
    assert env["HEADWATER_SERVICE_URL"] == "http://ours:8325"


def test_the_s3_root_applies_only_to_an_s3_datastore():
    env = {"METAFLOW_DATASTORE_SYSROOT_S3": "s3://team/mf"}
    assert use_metaflow_settings(env) == {}


def _run(flow: Path, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(flow), "run"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        timeout=120,
    )


def test_a_metaflow_flow_goes_where_metaflows_variables_say(hw_root, tmp_path):
    compat = tmp_path / "compat"
    proc = subprocess.run(
        [sys.executable, "-m", "headwater.cli.console", "metaflow-compat", str(compat)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    metaflow_env = {
        "METAFLOW_DEFAULT_METADATA": "service",
        "METAFLOW_SERVICE_URL": "http://127.0.0.1:9",  # nothing listens there
        "HEADWATER_SERVICE_RETRY_S": "0",
    }
    flow = STYLE / "helloworld.py"
    through_compat = _run(flow, {**metaflow_env, "PYTHONPATH": str(compat)}, hw_root.parent)
    assert through_compat.returncode == 1
    assert "http://127.0.0.1:9" in through_compat.stderr
    assert "Traceback" not in through_compat.stderr
    # A headwater flow ignores Metaflow's variables: it keeps to the local store.
    ours = _run(Path(__file__).parents[1] / "flows" / "linear.py", metaflow_env, hw_root.parent)
    assert ours.returncode == 0, ours.stderr
