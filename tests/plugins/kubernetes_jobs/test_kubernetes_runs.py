"""Runs whose tasks are Kubernetes Jobs, against a scripted API server on loopback (see
fixtures/kube_api.py): each Job's pod command runs as a local process with exactly the pod's
environment, against the real metadata service, so a pod would complete its task."""

from __future__ import annotations

import json
import re

import pytest

from headwater import Run, metadata, namespace
from team.team_setups import team_env

pytestmark = pytest.mark.slow


def _env(request, kube_env) -> dict:
    return {**team_env(request, "local+service", "alice"), **kube_env}


def test_every_task_runs_as_a_job_whose_pod_completes_it(request, run_flow, kube_api, kube_env):
    env = _env(request, kube_env)
    proc = run_flow("foreach.py", "--with", "kubernetes", "run", env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\S+) of ForeachFlow completed", proc.stderr).group(1)

    # One Job per task, each validated by the server, none left behind.
    assert len(kube_api.posted_jobs) == 6
    assert not kube_api.invalid
    assert sorted(n for k, n in kube_api.deleted if k == "jobs") == sorted(
        j["metadata"]["name"] for j in kube_api.posted_jobs
    )
    # The token reached the pods through a Secret made for the run, deleted at its end; no
    # manifest holds it.
    token = env["HEADWATER_SERVICE_TOKEN"]
    (secret,) = kube_api.posted_secrets
    assert ("secrets", secret["metadata"]["name"]) in kube_api.deleted
    for job in kube_api.posted_jobs:
        assert token not in json.dumps(job)
        (container,) = job["spec"]["template"]["spec"]["containers"]
        refs = [v for v in container["env"] if v["name"] == "HEADWATER_SERVICE_TOKEN"]
        assert refs == [
            {
                "name": "HEADWATER_SERVICE_TOKEN",
                "valueFrom": {
                    "secretKeyRef": {
                        "name": secret["metadata"]["name"],
                        "key": "HEADWATER_SERVICE_TOKEN",
                    }
                },
            }
        ]
        assert job["spec"]["backoffLimit"] == 0

    import os

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from headwater.client import provider

        provider._connections.clear()
        metadata("service")
        namespace(None)
        run = Run(f"ForeachFlow/{run_id}")
        assert run.successful
        assert run.data.squares == [1, 4, 9] and run.data.total == 14
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        provider._connections.clear()
        provider._explicit = None
