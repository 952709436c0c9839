"""Tasks on a real local Ray cluster behave as local ones: routing by decorator, output shown
and kept once, @retry, @catch, @timeout, a worker dying mid-task, streaming, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from headwater import Flow, Run, metadata, namespace

pytestmark = [pytest.mark.ray, pytest.mark.slow]

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def _run_id(proc, flow: str) -> str:
    m = re.search(rf"[Rr]un (\d+) of {flow}", proc.stderr)
    assert m, proc.stderr
    return m.group(1)


def test_a_ray_step_runs_on_the_cluster_and_the_rest_locally(run_flow, hw_root, ray_env):
    proc = run_flow("ray_mixed_flow.py", "run", env=ray_env)
    assert proc.returncode == 0, proc.stderr
    run_id = _run_id(proc, "RayMixedFlow")
    # The remote tasks' output reached the terminal, prefixed as local output is.
    for i in (1, 2):
        assert re.search(rf"\[{run_id}/train/\d+\] training on {i}", proc.stdout + proc.stderr)
        assert re.search(rf"\[{run_id}/train/\d+\] warning about {i}", proc.stderr)

    metadata(f"local@{hw_root}")
    namespace(None)
    run = Run(f"RayMixedFlow/{run_id}")
    assert run.data.scores == [10, 20]
    assert run.data.where == {"start": "local", "train": ["ray"], "join": "local", "end": "local"}
    for task in run["train"]:
        # Kept once: the task saved its logs on the cluster and the runtime did not again.
        assert task.stdout == f"training on {task.index + 1}\n"
        assert task.stderr == f"warning about {task.index + 1}\n"
        assert float(task.metadata_dict["wall_s"]) > 0


def test_retry_catch_and_timeout_behave_as_locally(run_flow, hw_root, ray_env):
    proc = run_flow("remote_failures_flow.py", "run", "--executor", "ray", env=ray_env)
    assert proc.returncode == 0, proc.stderr
    run_id = _run_id(proc, "RemoteFailuresFlow")
    failed = rf"\[{run_id}/start/\d+\] Task failed: RuntimeError: first attempt"
    assert re.search(failed, proc.stderr)
    assert "Retrying now (attempt 1)" in proc.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    run = Run(f"RemoteFailuresFlow/{run_id}")
    summary = run.data.summary
    assert summary["attempts"] == 2
    assert summary["error"] == "ValueError: always fails"
    assert summary["late"].startswith("TimeoutError: step 'slow' timed out after 2 s")
    # The timed-out attempt was stopped, not waited for: the whole run took far less than
    # the step's 60 s sleep.
    slow = run["slow"].task
    assert float(Flow("RemoteFailuresFlow")[run_id]["slow"].task.metadata_dict["wall_s"]) < 30
    assert slow.successful  # @catch kept the failure


def test_a_worker_dying_mid_task_is_a_failed_attempt_that_retries(run_flow, hw_root, ray_env):
    proc = run_flow(
        "remote_failures_flow.py", "run", "--executor", "ray", "--fail", "worker", env=ray_env
    )
    assert proc.returncode == 0, proc.stderr
    run_id = _run_id(proc, "RemoteFailuresFlow")
    assert re.search(
        rf"\[{run_id}/start/\d+\] Task failed: TaskDied: the Ray worker running the task died",
        proc.stderr,
    )
    metadata(f"local@{hw_root}")
    namespace(None)
    assert Run(f"RemoteFailuresFlow/{run_id}").data.summary["attempts"] == 2


def _start_slow(hw_root: Path, ray_env: dict, pid_file: Path) -> subprocess.Popen:
    env = {**os.environ, **ray_env, "PYTHONUNBUFFERED": "1"}
    flow = str(FLOWS / "remote_slow_flow.py")
    return subprocess.Popen(
        [sys.executable, flow, "run", "--executor", "ray", "--pid-file", str(pid_file)],
        env=env,
        cwd=hw_root.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.1)


def test_output_streams_while_the_task_runs_and_ctrl_c_cancels_it(hw_root, ray_env, tmp_path):
    pid_file = tmp_path / "task.pid"
    proc = _start_slow(hw_root, ray_env, pid_file)
    try:
        # The task's first line reaches the terminal while the task is still running.
        seen = []
        deadline = time.monotonic() + 90
        for line in proc.stdout:
            seen.append(line)
            if re.search(r"\[\d+/start/\d+\] started", line):
                break
            assert time.monotonic() < deadline, "".join(seen)
        else:
            pytest.fail("the run ended before the task's output was shown:\n" + "".join(seen))
        _wait_for(pid_file, 30)
        task_pid = int(pid_file.read_text())
        assert Path(f"/proc/{task_pid}").exists()  # still running (it sleeps 60 s)

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, rest
    assert "was interrupted" in rest
    deadline = time.monotonic() + 20
    while _alive(task_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(task_pid), "the task on the cluster outlived Ctrl-C"
    from headwater.metadata_store.sqlite import SqliteMetadata

    md = SqliteMetadata(hw_root / "metadata.db")
    assert md.get_run("RemoteSlowFlow", "1").status.value == "interrupted"
    md.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_no_cluster_is_a_one_line_error(run_flow, hw_root):
    from fixtures.postgres import free_port

    env = {"HEADWATER_RAY_ADDRESS": f"127.0.0.1:{free_port()}"}
    env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    proc = run_flow("linear.py", "run", "--executor", "ray", env=env, timeout=120)
    assert proc.returncode == 1
    assert "could not connect to the Ray cluster at '127.0.0.1:" in proc.stderr
    assert "ray start --head" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_step_too_big_for_any_node_fails_at_once(run_flow, hw_root, ray_env):
    proc = run_flow("linear.py", "--with", "ray:cpu=3", "run", env=ray_env)
    assert proc.returncode == 1
    assert (
        "step 'start' asks Ray for 3 CPUs, more than any node of the cluster has (largest: 2)"
        in proc.stderr
    )
