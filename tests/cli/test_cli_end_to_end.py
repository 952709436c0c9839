"""The shell commands on real runs: dump, logs, tag, check; and their one-line errors."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow  # every test runs flow commands


def _run_id(proc) -> str:
    return re.search(r"Run (\d+) of \w+ completed", proc.stderr).group(1)


@pytest.fixture
def output_run(run_flow):
    proc = run_flow("output_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    return _run_id(proc)


def test_logs_print_what_the_task_printed(run_flow, output_run):
    proc = run_flow("output_flow.py", "logs", f"{output_run}/start/1", "--stdout")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["python stdout line", "raw fd1 line", "child process line"]
    proc = run_flow("output_flow.py", "logs", f"{output_run}/start", "--stderr")
    assert proc.stdout.splitlines() == ["python stderr line", "raw fd2 line"]


def test_dump_prints_artifacts(run_flow):
    proc = run_flow("linear.py", "run")
    run_id = _run_id(proc)
    proc = run_flow("linear.py", "dump", f"{run_id}/end")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^\s*x: 2$", proc.stdout, re.M)
    assert re.search(r"^\s*y: 4$", proc.stdout, re.M)


def test_no_command_means_check(run_flow):
    proc = run_flow("linear.py")
    assert proc.returncode == 0
    assert "the graph is valid" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dump", "42/end"], "run 42 of OutputFlow not found"),
        (["logs", "42/start/1"], "run 42 of OutputFlow not found"),
        (["dump", "{run}/nosuch"], "nosuch"),
        (["logs", "{run}/start/99"], "99"),
        (["dump", "a/b/c/d/e"], "malformed path 'a/b/c/d/e': expected RUN/STEP"),
        (["logs", "{run}"], "RUN/STEP"),
        (["tag", "remove", "--run-id", "{run}", "user:tester"], "is a system tag"),
        (["tag", "add", "--run-id", "77", "x"], "77"),
    ],
)
def test_bad_input_gets_one_line_and_exit_1(run_flow, output_run, args, message):
    args = [a.format(run=output_run) for a in args]
    proc = run_flow("output_flow.py", *args)
    assert proc.returncode == 1, proc.stdout
    err = proc.stderr.strip()
    assert message in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err


def test_debug_shows_the_traceback(run_flow, output_run):
    proc = run_flow("output_flow.py", "dump", "42/end", env={"HEADWATER_DEBUG": "1"})
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr


def test_missing_datastore_root(run_flow, hw_root):
    proc = run_flow("linear.py", "dump", "1/end")
    assert proc.returncode == 1
    assert "no headwater datastore" in proc.stderr


def test_tags_round_trip_from_the_shell(run_flow, output_run):
    tag = "nightly run ✓"
    assert run_flow("output_flow.py", "tag", "add", "--run-id", output_run, tag).returncode == 0
    listed = run_flow("output_flow.py", "tag", "list", "--run-id", output_run, "--flat")
    assert tag in listed.stdout
    replaced = run_flow("output_flow.py", "tag", "replace", "--run-id", output_run, tag, "kept")
    assert replaced.returncode == 0, replaced.stderr
    listed = run_flow("output_flow.py", "tag", "list", "--run-id", output_run, "--flat")
    assert "kept" in listed.stdout and tag not in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--cout", "3"], "unknown option '--cout' for 'run': did you mean '--count'?"),
        (["run", "--max-worker", "2"], "unknown option '--max-worker' for 'run': did you mean "),
        (["--quite", "run"], "unknown option '--quite' for 'run': did you mean '--quiet'?"),
        (["rnu"], "invalid choice: 'rnu' (did you mean 'run'?)"),
        (["tag", "list", "--hide-sytem-tags"], "did you mean '--hide-system-tags'?"),
        (["resume", "strat"], "ParamsFlow has no step 'strat' to resume from: did you mean "),
        (["--with", "retyr", "run"], "no step decorator named 'retyr' (did you mean 'retry'?)"),
    ],
)
def test_a_misspelt_name_gets_the_near_one(run_flow, hw_root, args, message):
    hw_root.mkdir(parents=True, exist_ok=True)
    proc = run_flow("params_flow.py", *args)
    assert proc.returncode == 1
    err = proc.stderr.strip()
    assert message in err
    assert len(err.splitlines()) == 1, err


def test_an_unknown_option_is_named_without_its_value(run_flow):
    proc = run_flow("params_flow.py", "run", "--n-rows", "100")
    assert proc.returncode == 1
    assert "unknown option '--n-rows' for 'run': ParamsFlow's parameters are: " in proc.stderr
    proc = run_flow("params_flow.py", "run", "--n-rows=100")
    assert "unknown option '--n-rows' for 'run'" in proc.stderr
    proc = run_flow("params_flow.py", "run", "extra")
    assert "unexpected argument 'extra' for 'run'" in proc.stderr
