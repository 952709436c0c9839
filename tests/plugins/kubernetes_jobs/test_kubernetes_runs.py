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


def _read_back(env, monkeypatch, pathspec):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from headwater.client import provider

    monkeypatch.setattr(provider, "_connections", {})
    monkeypatch.setattr(provider, "_explicit", None)
    metadata("service")
    namespace(None)
    return Run(pathspec)


@pytest.mark.parametrize("setup", ["local+service", "s3+service"])
def test_every_task_runs_as_a_job_whose_pod_completes_it(
    request, run_flow, kube_api, kube_env, setup, monkeypatch
):
    env = {**team_env(request, setup, "alice"), **kube_env}
    if setup.startswith("s3"):
        # The team keeps its S3 keys in a Secret (kubectl create secret ...); pods get them
        # from it through HEADWATER_KUBERNETES_SECRETS, never through the manifest.
        keys = {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        secret = {"kind": "Secret", "metadata": {"name": "s3-creds"}, "stringData": keys}
        kube_api.put("secrets", "default", secret, "ADDED")
        env["HEADWATER_KUBERNETES_SECRETS"] = "s3-creds"
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
        assert "AWS_SECRET_ACCESS_KEY" not in json.dumps(job)
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

    run = _read_back(env, monkeypatch, f"ForeachFlow/{run_id}")
    assert run.successful
    assert run.data.squares == [1, 4, 9] and run.data.total == 14


@pytest.mark.parametrize(
    ("script", "headline"),
    [
        (
            "oom",
            "OOMKilled: the task's container ran out of memory (limit 4096Mi): give the step "
            "more with @kubernetes(memory=...) or @resources(memory=...)",
        ),
        ("evicted", "Evicted: Kubernetes evicted the task's pod (The node was low on resource"),
        ("deadline", "TimeoutError: the task's Job ran past its deadline"),
        (
            "imagepull",
            "ImagePullBackOff: the task's pod cannot pull its image "
            "'registry.example/headwater:test' (Back-off pulling image",
        ),
    ],
)
def test_pod_failures_are_one_line_task_errors(
    script, headline, request, run_flow, kube_api, kube_env
):
    kube_api.scripts["double"] = script
    proc = run_flow("linear.py", "--with", "kubernetes", "run", env=_env(request, kube_env))
    assert proc.returncode == 1
    failed = re.search(r"\[\S+/double/\S+\] Task failed: (.*)", proc.stderr)
    assert failed, proc.stderr
    assert failed.group(1).startswith(headline), failed.group(1)
    assert "Traceback" not in proc.stderr
    # Its Job was deleted, and nothing of the run is left on the cluster.
    assert not kube_api.matching("jobs", "default", {})


def test_a_failing_step_reports_its_own_exception(request, run_flow, kube_api, kube_env):
    proc = run_flow("failing_flow.py", "--with", "kubernetes", "run", env=_env(request, kube_env))
    assert proc.returncode == 1
    assert re.search(r"\[\S+/boom/\S+\] Task failed: ValueError: bad value 42", proc.stderr)


def test_kubernetes_list_and_kill_a_runs_jobs(request, run_flow, kube_api, kube_env, tmp_path):
    import subprocess
    import sys
    import time
    from pathlib import Path

    env = {**__import__("os").environ, **_env(request, kube_env)}
    kube_api.scripts["double"] = "hang"
    flow = str(Path(__file__).resolve().parents[2] / "flows" / "linear.py")
    run_id_file = tmp_path / "run_id"
    proc = subprocess.Popen(
        [sys.executable, flow, "--with", "kubernetes", "run", "--run-id-file", str(run_id_file)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not kube_api.matching("jobs", "default", {"headwater.dev/step": "double"}):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.2)
        run_id = run_id_file.read_text()

        listed = run_flow("linear.py", "kubernetes", "list", "--run-id", run_id, env=env)
        assert listed.returncode == 0, listed.stderr
        (line,) = listed.stdout.splitlines()
        assert line.startswith(f"LinearFlow/{run_id}/double/") and "\trunning\t" in line

        killed = run_flow("linear.py", "kubernetes", "kill", "--run-id", run_id, env=env)
        assert killed.returncode == 0, killed.stderr
        assert "Deleted 1 Kubernetes Jobs" in killed.stderr
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert "Killed: the task's Job was deleted before it finished" in err
    listed = run_flow("linear.py", "kubernetes", "list", "--run-id", run_id, env=env)
    assert "No Kubernetes Jobs of run" in listed.stderr


def test_a_local_datastore_is_refused_unless_pods_share_it(run_flow, kube_api, kube_env):
    env = {k: v for k, v in kube_env.items() if k != "HEADWATER_KUBERNETES_ALLOW_LOCAL"}
    proc = run_flow("linear.py", "--with", "kubernetes", "run", env=env)
    assert proc.returncode == 1
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "the kubernetes executor needs stores its pods can reach" in line
    assert not kube_api.posted_jobs


def test_no_image_is_a_one_line_error(request, run_flow, kube_api, kube_env):
    env = {k: v for k, v in kube_env.items() if k != "HEADWATER_KUBERNETES_IMAGE"}
    proc = run_flow("linear.py", "--with", "kubernetes", "run", env=_env(request, env))
    assert proc.returncode == 1
    assert "step 'start' runs on Kubernetes but has no image" in proc.stderr
    assert not kube_api.posted_jobs


def test_a_gangs_workers_get_the_address_of_its_control_tasks_pod(
    request, run_flow, kube_api, kube_env, monkeypatch
):
    env = _env(request, kube_env)
    proc = run_flow(
        "parallel_flow.py", "--with", "kubernetes", "run", "--nodes", "3", env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\S+) of ParallelFlow completed", proc.stderr).group(1)

    # The control task's Job (posted first) expands its own pod's address into --main-ip; the
    # workers' Jobs were made once that pod had one, with the address written in.
    gang = [j for j in kube_api.posted_jobs if "train" in j["metadata"]["name"]]
    assert len(gang) == 3 and not kube_api.invalid
    (container,) = gang[0]["spec"]["template"]["spec"]["containers"]
    assert container["command"][-2:] == ["--main-ip", "$(HEADWATER_POD_IP)"]
    pod_ip = {"fieldRef": {"fieldPath": "status.podIP"}}
    assert {"name": "HEADWATER_POD_IP", "valueFrom": pod_ip} in container["env"]
    control_job = gang[0]["metadata"]["name"]
    (address,) = [ip for pod, ip in kube_api.pod_ips.items() if pod.startswith(control_job + "-")]
    for worker in gang[1:]:
        (container,) = worker["spec"]["template"]["spec"]["containers"]
        assert "--main-ip" not in container["command"]
        assert json.loads(container["command"][-1])["main_ip"] == address

    run = _read_back(env, monkeypatch, f"ParallelFlow/{run_id}")
    tasks = sorted(run["train"], key=lambda t: t.data.node)
    assert [t.data.node for t in tasks] == [0, 1, 2]
    assert {t.data.main_ip for t in tasks} == {address}
    assert {t.data.env["MF_PARALLEL_MAIN_IP"] for t in tasks} == {address}
    assert run.data.nodes_seen == [0, 1, 2]


def test_a_gang_whose_control_pod_never_starts_makes_no_worker_jobs(
    request, run_flow, kube_api, kube_env
):
    kube_api.scripts["train"] = "imagepull"
    proc = run_flow(
        "parallel_flow.py", "--with", "kubernetes", "run", "--nodes", "3",
        env=_env(request, kube_env), timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "ImagePullBackOff" in proc.stderr and "Traceback" not in proc.stderr
    gang = [j for j in kube_api.posted_jobs if "train" in j["metadata"]["name"]]
    assert len(gang) == 1  # the control task's: its workers waited for an address that never came
    assert not kube_api.matching("jobs", "default", {})


def test_a_spec_with_dollar_signs_reaches_the_pod_as_written(
    request, run_flow, kube_api, kube_env, monkeypatch
):
    """Kubernetes expands $(VAR) in a container's command: the spec is escaped against it."""
    env = _env(request, kube_env)
    tag = "$(HEADWATER_USER)$$x$"
    proc = run_flow(
        "current_flow.py", "--with", "kubernetes", "run", "--tag", tag, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\S+) of CurrentFlow completed", proc.stderr).group(1)
    run = _read_back(env, monkeypatch, f"CurrentFlow/{run_id}")
    assert tag in run["end"].task.data.seen["tags"]  # the task's current.tags, from its spec
