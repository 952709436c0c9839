"""The same artifact of many tasks read together from an object store (client.siblings)."""

from __future__ import annotations

import re

import pytest

from headwater import Run, metadata, namespace
from headwater.exceptions import ArtifactNotFound


@pytest.fixture
def on_s3(s3_bucket, hw_root, client_state, monkeypatch):
    s3_bucket.use(monkeypatch)
    return s3_bucket


def test_every_tasks_value_in_order_and_errors_as_before(on_s3, run_flow, monkeypatch):
    proc = run_flow("workers_flow.py", "run", "--width", "12", env={"FAIL_INDEX": "5"})
    assert proc.returncode == 1
    run_id = re.search(r"as run (\S+) ", proc.stderr).group(1)
    metadata("local")
    namespace(None)
    tasks = list(Run(f"WorkersFlow/{run_id}")["work"])
    assert len(tasks) == 12 and tasks[0]._siblings is not None
    values = {t.index: (t.data.double if t.successful else None) for t in tasks}
    assert values == {i: (None if i == 5 else i * 2) for i in range(12)}
    failed = next(t for t in tasks if t.index == 5)
    with pytest.raises(ArtifactNotFound, match="has no artifact 'double'"):
        failed.data.double  # noqa: B018 - the access is the test
    # one value that every task inherited: fetched once, given to each
    assert all(t.data.items == list(range(12)) for t in tasks if t.successful)


def test_a_local_datastore_reads_one_task_at_a_time(run_flow, client):
    assert run_flow("foreach.py", "run").returncode == 0
    namespace(None)
    tasks = list(Run("ForeachFlow/1")["square"])
    assert all(t._siblings is None for t in tasks)
    assert sorted(t.data.sq for t in tasks) == [1, 4, 9]


def test_a_steps_small_values_come_from_the_metadata_store_in_one_question(
    s3_bucket, fault_proxy, hw_root, client_state, monkeypatch, run_flow
):
    """Tasks on a far datastore record an artifact digest (their index and small values):
    reading a small artifact of every task then reads nothing from S3."""
    s3_bucket.use(monkeypatch, fault_proxy.endpoint_url)
    proc = run_flow("workers_flow.py", "run", "--width", "12", env={"FAIL_INDEX": "-1"})
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\S+) of", proc.stderr).group(1)
    metadata("local")
    namespace(None)
    fault_proxy.clear()
    tasks = list(Run(f"WorkersFlow/{run_id}")["work"])
    assert sorted(t.data.double for t in tasks) == [i * 2 for i in range(12)]
    reads = [s.request for s in fault_proxy.requests("GET ") if "/WorkersFlow/" in s.request]
    assert reads == []
    # An inherited value (stored by start, not by these tasks) is read from S3 as before.
    assert all(len(t.data.items) == 12 for t in tasks)


def test_a_damaged_digest_value_is_read_from_the_datastore(on_s3, run_flow):
    from headwater.client.siblings import Siblings

    assert (
        run_flow("workers_flow.py", "run", "--width", "3", env={"FAIL_INDEX": "-1"}).returncode == 0
    )
    metadata("local")
    namespace(None)
    tasks = list(Run("WorkersFlow/1")["work"])
    siblings = tasks[0]._siblings
    assert isinstance(siblings, Siblings)
    siblings.read_indexes()
    assert siblings.inline  # the digests gave the small values
    for key in list(siblings.inline):
        siblings.inline[key] = b"not the blob the key names"
    assert sorted(t.data.double for t in tasks) == [0, 2, 4]


def test_a_resumed_runs_cloned_tasks_have_digests_of_their_own_index(on_s3, run_flow):
    failed = run_flow("workers_flow.py", "run", "--width", "4", env={"FAIL_INDEX": "2"})
    assert failed.returncode == 1
    origin = re.search(r"as run (\S+) ", failed.stderr).group(1)
    proc = run_flow(
        "workers_flow.py", "resume", "--origin-run-id", origin, env={"FAIL_INDEX": "-1"}
    )
    assert proc.returncode == 0, proc.stderr
    metadata("local")
    namespace(None)
    from headwater import Flow

    run = Flow("WorkersFlow").latest_run
    tasks = list(run["work"])
    assert sorted(t.data.double for t in tasks) == [0, 2, 4, 6]
    siblings = tasks[0]._siblings
    for task in tasks:  # what the digests said is what the datastore holds for this run
        assert task._index_cache == siblings.ds.read_index(task._path)
    assert sum(1 for t in tasks if t.origin_pathspec) == 3
