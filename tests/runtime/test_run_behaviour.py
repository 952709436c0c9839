"""What `python flow.py run` does beyond graph shapes: parameters, joins, output, failures."""

from __future__ import annotations

import ast
import re
import threading

import pytest

from headwater.core.ids import AttemptPath
from headwater.metadata_store.sqlite import SqliteMetadata
from headwater.stores import open_datastore


def _run_id(proc) -> str:
    m = re.search(r"[Rr]un (\d+) of \w+", proc.stderr)
    assert m, proc.stderr
    return m.group(1)


def _seen(proc) -> dict:
    line = next(ln for ln in proc.stdout.splitlines() if " SEEN " in ln)
    return ast.literal_eval(line.split(" SEEN ", 1)[1])


def _end_values(root, flow: str, run_id: str) -> dict:
    md = SqliteMetadata(root / "metadata.db")
    ds = open_datastore("local", str(root))
    (task,) = md.list_tasks(flow, run_id, "end")
    index = ds.read_index(AttemptPath(flow, run_id, "end", task.task_id, task.successful_attempt))
    return {name: ds.load_value(flow, ref.key) for name, ref in index.artifacts.items()}


# --- parameters -----------------------------------------------------------------------------


def test_parameter_defaults(run_flow, hw_root):
    (hw_root.parent / "notes.txt").write_text("café notes\n")
    proc = run_flow("params_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    assert _seen(proc) == {
        "alpha": 0.5,
        "count": 3,
        "who": "ann",
        "verbose": False,
        "fast": False,
        "items": ["a", "b"],
        "config": {"k": 1},
        "label": "ParamsFlow-label",  # callable default, evaluated with a context
        "notes": "café notes\n",  # IncludeFile read at launch
        "limit": 10,  # class constant
    }


def test_parameters_from_command_line_and_environment(run_flow, hw_root, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("other")
    proc = run_flow(
        "params_flow.py",
        "run",
        "--count",
        "7",
        "--verbose",
        "yes",
        "--fast",
        "--items",
        "x,y,z",
        "--config",
        '[1, {"a": null}]',
        "--notes",
        str(other),
        "--who",
        "bob",
        env={"HEADWATER_RUN_ALPHA": "0.25", "METAFLOW_RUN_LABEL": "from-env"},
    )
    assert proc.returncode == 0, proc.stderr
    seen = _seen(proc)
    assert seen["alpha"] == 0.25
    assert seen["count"] == 7
    assert seen["verbose"] is True and seen["fast"] is True
    assert seen["items"] == ["x", "y", "z"]
    assert seen["config"] == [1, {"a": None}]
    assert seen["notes"] == "other"
    assert seen["who"] == "bob"
    assert seen["label"] == "from-env"
    # Parameters are saved with the run and visible in later steps.
    assert _end_values(hw_root, "ParamsFlow", _run_id(proc))["alpha_in_end"] == 0.25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "abc"], "parameter 'count' expects an integer, got 'abc'"),
        (["--verbose", "maybe"], "parameter 'verbose' expects true or false, got 'maybe'"),
        (["--config", "{bad"], "parameter 'config' expects a JSON value"),
        (["--notes", "/no/such/file"], "IncludeFile 'notes' cannot read '/no/such/file'"),
        (["--unknown", "1"], "unknown option '--unknown' for 'run': ParamsFlow's parameters are"),
    ],
)
def test_bad_parameter_gets_one_line_error(run_flow, hw_root, args, message):
    (hw_root.parent / "notes.txt").write_text("x")
    proc = run_flow("params_flow.py", "run", *args)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("param", "cannot assign self.alpha: it is a parameter and read-only"),
        ("constant", "cannot assign self.CONSTANT: it is a class constant and read-only"),
    ],
)
def test_parameters_and_constants_are_read_only(run_flow, target, message):
    proc = run_flow("readonly_flow.py", "run", "--target", target)
    assert proc.returncode == 1
    assert message in proc.stderr


# --- joins ----------------------------------------------------------------------------------


def test_merge_artifacts_merges_equal_and_unique_values(run_flow, hw_root):
    proc = run_flow("merge_flow.py", "run", "--mode", "ok")
    assert proc.returncode == 0, proc.stderr
    values = _end_values(hw_root, "MergeFlow", _run_id(proc))
    assert values["shared"] == "same"
    assert values["only_a"] == 1
    assert "differs" not in values
    assert values["upstream_visible"] is False


def test_merge_artifacts_keeps_what_the_join_set(run_flow, hw_root):
    proc = run_flow("merge_flow.py", "run", "--mode", "set_first")
    assert proc.returncode == 0, proc.stderr
    assert _end_values(hw_root, "MergeFlow", _run_id(proc))["differs"] == "chosen"


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("conflict", "inputs disagree on 'differs' (a/2 vs b/3)"),
        ("both", "give include or exclude, not both"),
        ("missing", "include names 'nowhere' which no input has"),
    ],
)
def test_merge_artifacts_errors(run_flow, mode, message):
    proc = run_flow("merge_flow.py", "run", "--mode", mode)
    assert proc.returncode == 1
    assert message in proc.stderr


# --- output ---------------------------------------------------------------------------------


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_every_output_line_streams_with_prefix_and_is_saved(run_flow, hw_root, executor):
    proc = run_flow("output_flow.py", "run", "--executor", executor)
    assert proc.returncode == 0, proc.stderr
    run_id = _run_id(proc)
    for line in ("python stdout line", "raw fd1 line", "child process line"):
        assert re.search(rf"^\[{run_id}/start/1\] {line}$", proc.stdout, re.M), line
    for line in ("python stderr line", "raw fd2 line"):
        assert re.search(rf"^\[{run_id}/start/1\] {line}$", proc.stderr, re.M), line
    assert f"[{run_id}/end/2] no newline at end" in proc.stdout
    ds = open_datastore("local", str(hw_root))
    start = AttemptPath("OutputFlow", run_id, "start", "1", 0)
    assert ds.read_log(start, "stdout").decode().splitlines() == [
        "python stdout line",
        "raw fd1 line",
        "child process line",
    ]
    assert ds.read_log(start, "stderr").decode().splitlines() == [
        "python stderr line",
        "raw fd2 line",
    ]


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "headline"),
    [
        ("raise", "ValueError: bad value 42"),
        ("exit", "the task process exited with code 3 before reporting a result"),
        ("segfault", "the task process was killed by SIGSEGV"),
    ],
)
def test_failed_task_fails_the_run_with_a_summary(run_flow, hw_root, how, headline):
    proc = run_flow("failing_flow.py", "run", "--how", how)
    assert proc.returncode == 1
    run_id = _run_id(proc)
    assert f"run {run_id} of FailingFlow failed: task {run_id}/boom/2: " in proc.stderr
    assert headline in proc.stderr
    assert f"logs {run_id}/boom/2" in proc.stderr
    md = SqliteMetadata(hw_root / "metadata.db")
    assert md.get_run("FailingFlow", run_id).status.value == "failed"
    (attempt,) = md.list_attempts("FailingFlow", run_id, "boom", "2")
    assert headline in attempt.exception
    # The earlier step's result is intact and readable.
    ds = open_datastore("local", str(hw_root))
    index = ds.read_index(AttemptPath("FailingFlow", run_id, "start", "1", 0))
    assert ds.load_value("FailingFlow", index.artifacts["before"].key) == "kept"


def test_unpicklable_artifact_names_the_artifact(run_flow, tmp_path):
    flow = tmp_path / "unpicklable.py"
    flow.write_text(
        "import threading\n"
        "from headwater import FlowSpec, step\n"
        "class LockFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.lock = threading.Lock()\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    LockFlow()\n"
    )
    proc = run_flow(flow, "run")
    assert proc.returncode == 1
    assert "artifact 'lock' could not be pickled" in proc.stderr


# --- scheduling -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("executor", "limit"),
    [("fork", 2), pytest.param("ray", 1, marks=[pytest.mark.ray, pytest.mark.slow])],
)
def test_max_workers_bounds_concurrency(run_flow, tmp_path, request, executor, limit):
    log = tmp_path / "events.log"
    env = request.getfixturevalue("ray_env") if executor == "ray" else None
    proc = run_flow(
        "workers_flow.py",
        "run",
        "--executor",
        executor,
        "--width",
        "6",
        "--max-workers",
        str(limit),
        "--log",
        str(log),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    events = []
    for line in log.read_text().splitlines():
        kind, ts, _pid = line.split()
        events.append((float(ts), 1 if kind == "start" else -1))
    level = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        level += delta
        peak = max(peak, level)
    assert peak == limit


def test_max_num_splits_is_enforced(run_flow):
    proc = run_flow("workers_flow.py", "run", "--width", "12", "--max-num-splits", "10")
    assert proc.returncode == 1
    assert "would start 12 foreach tasks, more than --max-num-splits 10" in proc.stderr


def test_run_id_file_and_tags(run_flow, hw_root, tmp_path):
    id_file = tmp_path / "run_id"
    proc = run_flow("linear.py", "run", "--run-id-file", str(id_file), "--tag", "my tag é")
    assert proc.returncode == 0, proc.stderr
    run_id = id_file.read_text()
    assert run_id == _run_id(proc)
    record = SqliteMetadata(hw_root / "metadata.db").get_run("LinearFlow", run_id)
    assert record.tags == ("my tag é",)
    assert "user:tester" in record.system_tags


def test_two_runs_at_once_both_complete(run_flow, hw_root):
    results = []

    def one():
        results.append(run_flow("foreach.py", "run"))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.returncode for p in results] == [0, 0], [p.stderr for p in results]
    ids = {_run_id(p) for p in results}
    assert len(ids) == 2
    md = SqliteMetadata(hw_root / "metadata.db")
    for run_id in ids:
        assert md.get_run("ForeachFlow", run_id).status.value == "completed"
        assert all(t.status.value == "succeeded" for t in md.list_tasks("ForeachFlow", run_id))


def test_same_value_is_stored_once_across_runs(run_flow, hw_root):
    for _ in range(2):
        assert run_flow("linear.py", "run").returncode == 0
    blobs = list((hw_root / "LinearFlow" / "blobs").rglob("*"))
    files = [b for b in blobs if b.is_file()]
    md = SqliteMetadata(hw_root / "metadata.db")
    ds = open_datastore("local", str(hw_root))
    keys = set()
    for run in md.list_runs("LinearFlow"):
        for task in md.list_tasks("LinearFlow", run.run_id):
            index = ds.read_index(AttemptPath("LinearFlow", run.run_id, task.step, task.task_id, 0))
            keys.update(ref.key for ref in index.artifacts.values())
    assert len(files) == len(keys)
