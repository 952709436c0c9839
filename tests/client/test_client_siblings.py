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
