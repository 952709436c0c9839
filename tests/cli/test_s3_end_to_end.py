"""Flows run on the s3 datastore (a real S3 API server on loopback, tests/fixtures/s3.py), and
their results, logs and resumes read back with the CLI and the in-process client under the
same settings. Run records stay in the local metadata (SQLite); every byte is in the bucket."""

from __future__ import annotations

import re

import pytest

from headwater import Flow, namespace


def run_id(proc) -> str:
    m = re.search(r"Run (\d+) of \w+ completed|run (\d+) of \w+ failed", proc.stderr)
    assert m, proc.stderr
    return m.group(1) or m.group(2)


@pytest.fixture
def on_s3(s3_bucket, run_flow):
    """``run(flow_file, *args)`` with the S3 endpoint and credentials in the environment (the
    datastore itself is chosen on the command line)."""

    def run(flow_file: str, *args: str, env: dict | None = None):
        settings = s3_bucket.env()
        base = {k: v for k, v in settings.items() if not k.startswith("HEADWATER_DEFAULT")}
        del base["HEADWATER_DATASTORE_ROOT"]
        return run_flow(flow_file, *args, env={**base, **(env or {})})

    return run


def s3_args(s3_bucket) -> list[str]:
    return ["--datastore", "s3", "--datastore-root", s3_bucket.root]


@pytest.fixture
def s3_client_settings(s3_bucket, client, monkeypatch):
    """The in-process client, reading the test's local metadata and the bucket."""
    s3_bucket.use(monkeypatch)
    namespace(None)


def test_linear_and_foreach_flows_run_on_s3_and_read_back(
    on_s3, s3_bucket, hw_root, s3_client_settings
):
    for flow_file in ("linear.py", "foreach.py"):
        proc = on_s3(flow_file, *s3_args(s3_bucket), "run")
        assert proc.returncode == 0, proc.stderr
        assert s3_bucket.root in proc.stderr  # says where the run is kept

    linear = Flow("LinearFlow").latest_run
    assert linear.successful
    assert (linear.data.x, linear.data.y) == (2, 4)
    assert linear["start"].task.data.x == 1
    foreach = Flow("ForeachFlow").latest_run
    assert foreach.data.squares == [1, 4, 9] and foreach.data.total == 14
    assert sorted(t.data.sq for t in foreach["square"]) == [1, 4, 9]

    keys = s3_bucket.object_keys()
    prefix = s3_bucket.prefix
    assert any(k.startswith(f"{prefix}/LinearFlow/blobs/") for k in keys)
    end = foreach["end"].task
    assert f"{prefix}/ForeachFlow/{foreach.id}/end/{end.id}/0/index.json" in keys
    # the local root holds run records only: no blob, index or log is written there
    local = [p.relative_to(hw_root).as_posix() for p in hw_root.rglob("*") if p.is_file()]
    assert not [p for p in local if "Flow/" in p], local


def test_logs_are_objects_in_the_bucket(on_s3, s3_bucket, s3_client_settings):
    proc = on_s3("output_flow.py", *s3_args(s3_bucket), "run")
    assert proc.returncode == 0, proc.stderr
    run = Flow("OutputFlow")[run_id(proc)]
    start = run["start"].task
    assert start.stdout.splitlines() == ["python stdout line", "raw fd1 line", "child process line"]
    assert start.stderr.splitlines() == ["python stderr line", "raw fd2 line"]
    assert run["end"].task.stdout == "no newline at end"
    stdout_key = f"{s3_bucket.prefix}/OutputFlow/{run.id}/start/{start.id}/0/stdout"
    assert stdout_key in s3_bucket.object_keys()

    # the CLI reads them from the same place, configured by the environment alone
    logs = on_s3("output_flow.py", "logs", f"{run.id}/start", "--stderr", env=s3_bucket.env())
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines() == ["python stderr line", "raw fd2 line"]


def test_dump_reads_artifacts_from_s3(on_s3, s3_bucket):
    proc = on_s3("linear.py", *s3_args(s3_bucket), "run")
    assert proc.returncode == 0, proc.stderr
    dump = on_s3("linear.py", *s3_args(s3_bucket), "dump", f"{run_id(proc)}/end")
    assert dump.returncode == 0, dump.stderr
    assert re.search(r"^\s*y: 4$", dump.stdout, re.M)


def test_resume_on_s3_clones_the_tasks_that_finished(on_s3, s3_bucket, s3_client_settings):
    failed = on_s3("resumable_flow.py", *s3_args(s3_bucket), "run", env={"FAIL_AT": "inner:11"})
    assert failed.returncode == 1
    origin = run_id(failed)
    resumed = on_s3("resumable_flow.py", *s3_args(s3_bucket), "resume")
    assert resumed.returncode == 0, resumed.stderr
    run = Flow("ResumableFlow")[run_id(resumed)]
    assert run.successful and run.data.total == 66
    assert run.origin_pathspec == f"ResumableFlow/{origin}"
    cloned = run["start"].task
    assert cloned.origin_pathspec and cloned.data.ran == {"start": origin}
    index = f"{s3_bucket.prefix}/ResumableFlow/{run.id}/start/{cloned.id}/0/index.json"
    assert index in s3_bucket.object_keys()


def test_tasks_in_fresh_processes_find_s3_from_the_environment(on_s3, s3_bucket, client):
    """The subprocess executor's tasks (as remote ones will) open the datastore from their
    spec and the settings in their environment, not from anything the runtime holds."""
    proc = on_s3("foreach.py", *s3_args(s3_bucket), "run", "--executor", "subprocess")
    assert proc.returncode == 0, proc.stderr
    dump = on_s3("foreach.py", *s3_args(s3_bucket), "dump", f"{run_id(proc)}/end")
    assert re.search(r"^\s*total: 14$", dump.stdout, re.M), dump.stdout
