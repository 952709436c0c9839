"""Large array artifacts through real runs: what a step changes in place is saved, what it
leaves alone keeps its key, and tasks record how long saving and loading took."""

from __future__ import annotations

import numpy as np
import pytest

from headwater import Flow, namespace


def expected(mb: int, change: str) -> np.ndarray:
    """What tests/flows/big_array_flow.py's `touch` step leaves in `arr`."""
    arr = np.arange(mb * 2**20 // 8, dtype=np.float64)
    if change == "element":
        arr[7] = -1.0
    elif change == "reshape":
        arr = arr.reshape(arr.size // 2, 2)
    elif change == "replace":
        arr = arr * 2
    return arr


@pytest.mark.parametrize(
    ("change", "executor"),
    [
        ("none", "fork"),
        ("element", "fork"),
        ("reshape", "fork"),
        ("replace", "fork"),
        ("none", "subprocess"),
        ("element", "subprocess"),
    ],
)
def test_in_place_changes_are_kept_and_untouched_arrays_keep_their_key(
    run_flow, client, change, executor
):
    proc = run_flow("big_array_flow.py", "run", "--change", change, "--executor", executor)
    assert proc.returncode == 0, proc.stderr
    namespace(None)
    run = Flow("BigArrayFlow").latest_run
    start, touch, end = (run[s].task for s in ("start", "touch", "end"))
    want = expected(40, change)
    np.testing.assert_array_equal(touch.data.arr, want)
    np.testing.assert_array_equal(end.data.arr, want)
    assert (touch.artifacts.arr.sha == start.artifacts.arr.sha) == (change == "none")
    assert end.artifacts.arr.sha == touch.artifacts.arr.sha


def test_tasks_record_time_spent_saving_and_loading_artifacts(run_flow, client):
    assert run_flow("big_array_flow.py", "run", "--mb", "8").returncode == 0
    namespace(None)
    run = Flow("BigArrayFlow").latest_run
    start, touch = run["start"].task.metadata_dict, run["touch"].task.metadata_dict
    assert float(start["artifacts_save_s"]) > 0  # wrote 8 MB
    assert float(touch["artifacts_load_s"]) > 0  # read it back
    assert float(start["artifacts_load_s"]) >= 0
