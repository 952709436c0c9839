"""The service killed (kill -9) while 50 writers are registering tasks and attempts, then
started again: every writer finishes (its client retries with backoff), and no record is lost
or duplicated. A service that stays away longer than HEADWATER_SERVICE_RETRY_S is a one-line
error. And the bounded load test: writers and readers for a while, no error, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fixtures.service import ServiceProcess
from headwater.exceptions import MetadataUnavailable
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.metadata_store.service_client import ServiceMetadata

WRITERS = 50
TASKS_EACH = 12
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_service(postgres, tmp_path):
    """A service of this test's own (it gets killed), on a fresh database, user alice."""
    dsn = postgres.create_database(f"svc_{tmp_path.name[-20:].lower()}")
    service = ServiceProcess(dsn, tmp_path / "service.log").add_users("alice").start()
    yield service
    service.stop()


def test_writers_finish_with_nothing_lost_or_doubled_across_a_kill_9(own_service, monkeypatch):
    monkeypatch.setenv("HEADWATER_SERVICE_RETRY_S", "90")
    token = own_service.tokens["alice"]
    setup = ServiceMetadata(own_service.url, token)
    run = setup.create_run("F", "alice")
    progress, errors, made = [0], [], {}
    lock = threading.Lock()

    def writer(w: int) -> None:
        store = ServiceMetadata(own_service.url, token)
        ids = []
        try:
            for n in range(TASKS_EACH):
                # allocated ids and metadata: the writes a blind retry would duplicate
                task = store.create_task("F", run.run_id, f"step{w}")
                store.start_attempt("F", run.run_id, f"step{w}", task.task_id, 0)
                store.add_task_metadata("F", run.run_id, f"step{w}", task.task_id, 0, {"n": str(n)})
                store.finish_attempt(
                    "F",
                    run.run_id,
                    f"step{w}",
                    task.task_id,
                    0,
                    "succeeded",
                    metadata={"w": str(w)},
                )
                ids.append(task.task_id)
                with lock:
                    progress[0] += 1
        except Exception as exc:  # pragma: no cover - what the test looks for
            errors.append(f"writer {w}: {type(exc).__name__}: {exc}")
        finally:
            made[w] = ids
            store.close()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    while progress[0] < WRITERS * TASKS_EACH // 4:  # a quarter done: mid-stream
        time.sleep(0.01)
    own_service.kill()
    at_kill = progress[0]
    time.sleep(2.0)
    assert progress[0] == at_kill  # nothing got through while it was down
    own_service.start()
    for t in threads:
        t.join(180)
    assert errors == []
    assert progress[0] == WRITERS * TASKS_EACH

    tasks = setup.list_tasks("F", run.run_id)
    assert len(tasks) == WRITERS * TASKS_EACH  # none lost, none doubled
    assert sorted(int(t.task_id) for t in tasks) == list(range(1, WRITERS * TASKS_EACH + 1))
    by_step = {}
    for t in tasks:
        by_step.setdefault(t.step, []).append(t.task_id)
        assert t.status is TaskStatus.SUCCEEDED and t.attempts == 1
    for w, ids in made.items():
        assert sorted(by_step[f"step{w}"]) == sorted(ids)
        for n, task_id in enumerate(ids):
            entries = setup.get_task_metadata("F", run.run_id, f"step{w}", task_id)
            assert [(e.field, e.value) for e in entries] == [("n", str(n)), ("w", str(w))]
    setup.set_run_status("F", run.run_id, RunStatus.COMPLETED)
    setup.close()


def test_a_service_down_longer_than_the_retry_time_is_a_one_line_error(own_service, monkeypatch):
    monkeypatch.setenv("HEADWATER_SERVICE_RETRY_S", "1.5")
    store = ServiceMetadata(own_service.url, own_service.tokens["alice"])
    run = store.create_run("F", "alice")
    own_service.kill()
    for call in (
        lambda: store.create_task("F", run.run_id, "start"),
        lambda: store.get_run("F", run.run_id),
    ):
        started = time.monotonic()
        with pytest.raises(MetadataUnavailable) as err:
            call()
        assert 1.5 <= time.monotonic() - started < 10
        message = str(err.value)
        assert "\n" not in message
        assert message.startswith(f"cannot reach the metadata service at {own_service.url} (")
        assert (
            "start it with `headwater service --db ...` or check HEADWATER_SERVICE_URL" in message
        )
    store.close()


@pytest.mark.slow
def test_bounded_load_no_errors_nothing_lost(own_service):
    """benchmarks/service_load.py for a short while (run it alone for the full 60 s)."""
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "service_load.py"),
            "--url",
            own_service.url,
            "--token",
            own_service.tokens["alice"],
            "--seconds",
            "8",
            "--writers",
            "50",
            "--readers",
            "10",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, (figures, done.stderr)
    assert figures["errors"] == 0 and figures["lost"] == 0
    assert figures["tasks_written"] > 0 and figures["read_calls"] > 0
    print(
        f"\nload: writes p50 {figures['write_p50_ms']:.1f} ms p99 {figures['write_p99_ms']:.1f} ms;"
        f" reads p50 {figures['read_p50_ms']:.1f} ms p99 {figures['read_p99_ms']:.1f} ms"
    )
