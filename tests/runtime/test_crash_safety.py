"""Nothing is lost when the runtime dies: SIGKILL at many points, Ctrl-C, a full disk."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from headwater import Flow, Metaflow, metadata, namespace

FLOWS = Path(__file__).resolve().parent.parent / "flows"
FLOW = FLOWS / "resumable_flow.py"
KILL_POINTS = int(os.environ.get("HW_KILL_POINTS", "30"))
SEED = int(os.environ.get("HW_CRASH_SEED", "20261127"))


def _processes_running(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmd and state != "Z":
            found.append(int(entry))
    return found


def _wait_gone(marker: str, seconds: float = 10.0) -> list[int]:
    deadline = time.time() + seconds
    left = _processes_running(marker)
    while left and time.time() < deadline:
        time.sleep(0.05)
        left = _processes_running(marker)
    return left


def _check_store(root: Path) -> None:
    """Every task the store calls successful is fully readable; no killed run looks successful."""
    if not (root / "metadata.db").exists():
        return  # killed before anything was written
    metadata(f"local@{root}")
    namespace(None)
    if "ResumableFlow" not in {f.id for f in Metaflow().flows}:
        return  # killed before the first run was registered
    from headwater.metadata_store.sqlite import SqliteMetadata

    # No runtime is alive here, so no run may claim to be running still.
    md = SqliteMetadata(root / "metadata.db")
    assert md.list_runs("ResumableFlow", status="running") == []
    assert not [r for r in md.list_runs("ResumableFlow") if r.status.value == "running"]
    md.close()
    for run in Flow("ResumableFlow"):
        for step in run:
            for task in step:
                if task.successful:
                    for artifact in task:
                        artifact.data  # noqa: B018 - loading is the check
        if run.successful:
            assert run.data.total == 66


def _env(root: Path, **extra: str) -> dict:
    env = dict(os.environ, HEADWATER_ROOT=str(root), HEADWATER_USER="tester")
    env.update(extra)
    return env


@pytest.mark.slow  # kills the runtime at many points of a run
def test_sigkill_of_the_runtime_at_any_point_loses_nothing(tmp_path):
    rng = random.Random(SEED)
    root = tmp_path / ".headwater"
    marker = f"{FLOW} run"
    for point in range(KILL_POINTS):
        delay = rng.uniform(0.0, 0.6)
        proc = subprocess.Popen(
            [sys.executable, str(FLOW), "run", "--max-workers", "4"],
            env=_env(root, STEP_SLEEP="0.03"),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        context = f"seed {SEED}, kill point {point}, after {delay:.3f} s"
        assert _wait_gone(marker) == [], f"task processes outlived the runtime ({context})"
        _check_store(root)
        # The killed run (if it got as far as creating one) can be finished with resume.
        resumed = subprocess.run(
            [sys.executable, str(FLOW), "resume"],
            env=_env(root),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if any(
            why in resumed.stderr
            for why in (
                "has no run by user tester",  # killed before the run was created
                "no headwater datastore",  # ... or before anything was written
                "stopped before its first task started",  # ... or before its parameters
            )
        ):
            continue
        assert resumed.returncode == 0, f"{context}: {resumed.stderr}"
        run_id = re.search(r"Run (\d+) of ResumableFlow completed", resumed.stderr).group(1)
        assert Flow("ResumableFlow")[run_id].data.total == 66, context
    _check_store(root)


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_ctrl_c_stops_tasks_and_marks_the_run_interrupted(tmp_path, executor):
    root = tmp_path / ".headwater"
    proc = subprocess.Popen(
        [sys.executable, str(FLOW), "run", "--executor", executor],
        env=_env(root, STEP_SLEEP="30"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait for the first task to be running, then interrupt as a terminal would.
    deadline = time.time() + 30
    while time.time() < deadline and not _task_started(root):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    started = time.time()
    _out, err = proc.communicate(timeout=30)
    assert time.time() - started < 10
    assert proc.returncode == 1
    assert "was interrupted" in err
    assert "resume --origin-run-id 1" in err
    assert _wait_gone(f"{FLOW} ", 10) == []
    metadata(f"local@{root}")
    namespace(None)
    run = Flow("ResumableFlow")["1"]
    assert run.finished is False or not run.successful
    from headwater.metadata_store.sqlite import SqliteMetadata

    assert SqliteMetadata(root / "metadata.db").get_run("ResumableFlow", "1").status.value == (
        "interrupted"
    )


def _task_started(root: Path) -> bool:
    return (root / "ResumableFlow" / "1" / "_parameters").exists()


def test_a_full_disk_fails_the_task_clearly_and_keeps_earlier_runs(tmp_path, monkeypatch):
    small = tmp_path / "small"
    small.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(small)], capture_output=True
        ).returncode
        == 0
    )
    if not mounted:
        pytest.skip("cannot mount a small tmpfs here (not root?)")
    try:
        root = small / ".headwater"
        flow = tmp_path / "big_flow.py"
        flow.write_text(
            "import os\n"
            "from headwater import FlowSpec, Parameter, step\n"
            "class BigFlow(FlowSpec):\n"
            "    size_mb = Parameter('size-mb', default=1)\n"
            "    @step\n"
            "    def start(self):\n"
            "        self.blob = os.urandom(self.size_mb * 1024 * 1024)\n"
            "        self.next(self.end)\n"
            "    @step\n"
            "    def end(self):\n"
            "        pass\n"
            "if __name__ == '__main__':\n"
            "    BigFlow()\n"
        )

        def run(*args):
            return subprocess.run(
                [sys.executable, str(flow), "run", *args],
                env=_env(root),
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )

        assert run().returncode == 0
        full = run("--size-mb", "5")
        assert full.returncode == 1
        assert "No space left on device" in full.stderr
        assert "could not store artifact 'blob'" in full.stderr
        assert "Traceback" not in full.stderr.split("error:")[-1]
        metadata(f"local@{root}")
        namespace(None)
        first = Flow("BigFlow")["1"]
        assert first.successful and len(first["start"].task.data.blob) == 1024 * 1024
        assert not Flow("BigFlow")["2"].successful
        assert not [p for p in root.rglob("*.tmp")], "temp files left behind"
    finally:
        # lazy: the client may still hold the metadata database open
        subprocess.run(["umount", "-l", str(small)], check=False)
