"""The metadata service killed (kill -9) in the middle of a 200-way foreach.

Back within the retry time: the runtime and its tasks ride it out and the run completes,
with every task recorded once. Away for longer: the run stops with a one-line error, and
`resume` completes it once the service is back.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fixtures.service import ServiceProcess
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.metadata_store.service_client import ServiceMetadata

pytestmark = pytest.mark.slow

FLOW = Path(__file__).resolve().parents[1] / "flows" / "wide_foreach_flow.py"
WIDTH = 200


@pytest.fixture
def own_service(postgres, tmp_path):
    dsn = postgres.create_database(f"team_{tmp_path.name[-20:].lower()}")
    service = ServiceProcess(dsn, tmp_path / "service.log").add_users("alice").start()
    yield service
    service.stop()


def _env(service: ServiceProcess, hw_root: Path, retry_s: int) -> dict:
    return {
        **os.environ,
        "HEADWATER_ROOT": str(hw_root),
        "HEADWATER_DEFAULT_METADATA": "service",
        "HEADWATER_SERVICE_URL": service.url,
        "HEADWATER_SERVICE_TOKEN": service.tokens["alice"],
        "HEADWATER_SERVICE_RETRY_S": str(retry_s),
        "HEADWATER_USER": "alice",
    }


def _start(args: list[str], env: dict, cwd: Path) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, str(FLOW), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def _wait_for(proc, lines: list[str], pattern: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for line in list(lines) if re.search(pattern, line)) < count:
        assert proc.poll() is None and time.monotonic() < deadline, "".join(lines[-20:])
        time.sleep(0.05)


def _records(service: ServiceProcess, run_id: str) -> tuple[list, dict]:
    md = ServiceMetadata(service.url, service.tokens["alice"])
    tasks = md.list_tasks("WideForeachFlow", run_id, "body")
    attempts = {
        t.task_id: md.list_attempts("WideForeachFlow", run_id, "body", t.task_id) for t in tasks
    }
    return tasks, attempts


def test_a_service_killed_and_back_within_the_retry_time_loses_nothing(own_service, hw_root):
    env = _env(own_service, hw_root, retry_s=120)
    proc, lines = _start(
        ["run", "--width", str(WIDTH), "--pause", "0.05", "--max-num-splits", "1000"],
        env,
        hw_root.parent,
    )
    _wait_for(proc, lines, r"/body/\S+\] Task finished", 40)
    own_service.kill()
    time.sleep(3)  # tasks go on finishing meanwhile; nothing can be recorded
    own_service.start()
    assert proc.wait(timeout=300) == 0, "".join(lines[-30:])
    run_id = re.search(r"Run (\S+) of WideForeachFlow completed", "".join(lines)).group(1)
    tasks, attempts = _records(own_service, run_id)
    assert sorted(t.foreach_index for t in tasks) == list(range(WIDTH))  # none lost, none twice
    assert all(t.status is TaskStatus.SUCCEEDED for t in tasks)
    assert all(len(a) == 1 for a in attempts.values())
    md = ServiceMetadata(own_service.url, own_service.tokens["alice"])
    assert md.get_run("WideForeachFlow", run_id).status is RunStatus.COMPLETED


def test_a_service_away_too_long_stops_the_run_and_resume_completes_it(own_service, hw_root):
    env = _env(own_service, hw_root, retry_s=3)
    proc, lines = _start(
        ["run", "--width", str(WIDTH), "--pause", "0.05", "--max-num-splits", "1000"],
        env,
        hw_root.parent,
    )
    _wait_for(proc, lines, r"/body/\S+\] Task finished", 40)
    own_service.kill()
    code = proc.wait(timeout=120)
    assert code == 1
    errors = [line for line in lines if line.startswith("error:")]
    assert errors and "cannot reach the metadata service" in errors[-1], "".join(lines[-10:])
    assert "Traceback" not in "".join(lines)
    own_service.start()
    run_id = re.search(r"as run (\S+) ", "".join(lines)).group(1)
    resumed = subprocess.run(
        [sys.executable, str(FLOW), "resume", "--origin-run-id", run_id],
        capture_output=True,
        text=True,
        env={**env, "HEADWATER_SERVICE_RETRY_S": "60"},
        cwd=hw_root.parent,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    new_id = re.search(r"Run (\S+) of WideForeachFlow completed", resumed.stderr).group(1)
    tasks, attempts = _records(own_service, new_id)
    assert sorted(t.foreach_index for t in tasks) == list(range(WIDTH))
    assert "Cloned from" in resumed.stderr  # what finished before the outage is reused
