"""Flows with R steps, run as a user runs them: ``Rscript flow.R ...`` and ``python flow.py``.

The flows are files under tests/flows/r; results are read back with the Python client.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

R_FLOWS = Path(__file__).resolve().parents[1] / "flows" / "r"

pytestmark = [pytest.mark.r, pytest.mark.slow]


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def _run(flow: str, run_id: str | None = None):
    from headwater import Flow, Run, namespace

    namespace(None)
    return Run(f"{flow}/{run_id}") if run_id else Flow(flow).latest_run


def test_a_three_step_r_flow_runs_and_keeps_its_artifacts(run_r, client_state):
    out = _ok(run_r("hello.R"))
    assert "HelloFlow is starting." in out and "HelloFlow is all done." in out
    run = _run("HelloFlow")
    assert run.successful
    # a global of the script is visible in the step; a parameter is read as self$alpha
    assert run.data.y == 12.0
    assert run.data.stem == "model"  # library(tools) at the top of the script applies
    assert list(run.data.x) == [1, 2, 3]
    frame = run.data.df
    assert list(frame.columns) == ["a", "b"]
    assert str(frame.dtypes["a"]) == "Float64" and str(frame.dtypes["b"]) == "string"
    assert frame["b"].isna().tolist() == [False, True]
    ref = run["end"].task._index.artifacts["df"]
    assert (ref.codec, ref.type) == ("neutral", "R.data.frame")


def test_the_round_trip_table_r_to_python_to_r_is_lossless(run_r, client_state):
    out = _ok(run_r("roundtrip.R"))
    run = _run("RoundTripFlow")
    check = run["check"].task.data
    assert check.mismatches is None or list(check.mismatches) == [], out
    assert check.compared == 24
    assert check.first_pass is True  # the values R stored, read back in R unchanged
    bounce = run["bounce"].task.data
    types = bounce.py_types
    assert types["frame"] == "DataFrame" and types["model"] == "RObject"
    assert types["int_scalar"] == "int" and types["chr_scalar"] == "str"
    assert types["factor"] == "Categorical" and types["int"] == "MaskedArray"
    assert bounce.frame_dtypes == {
        "l": "boolean",
        "i": "Int32",
        "d": "Float64",
        "s": "string",
        "f": "category",
        "dt": "object",
        "t": "datetime64[ns, Europe/Paris]",
    }
    # the Python step stored its copy pickled; R read it back from pickles
    assert run["bounce"].task._index.artifacts["values_py"].codec == "pickle"
    # what it read and left alone keeps the R step's blob
    read = run["bounce"].task._index.artifacts["values"]
    assert read.codec == "neutral" and read == run["start"].task._index.artifacts["values"]


def test_a_python_flow_with_r_steps_in_a_foreach_and_reading_pandas(r_env, run_flow, client_state):
    _ok(run_flow(R_FLOWS / "mixed_py.py", "run", env=r_env))
    run = _run("MixedPyFlow")
    join = run["join"].task.data
    assert join.squares == [1.0, 4.0, 9.0]
    assert join.labels == ["item-0", "item-1", "item-2"]
    per_kind = run.data.per_kind
    assert per_kind.set_index("kind")["count"].to_dict() == {"a": 1, "b": 6}
    assert run.data.n_missing == 1
    assert run.data.total == 14.0


def test_an_r_flow_with_a_python_step(run_r, client_state):
    _ok(run_r("mixed_r.R"))
    run = _run("MixedRFlow")
    assert run.data.checked is True
    assert run["train"].task.data.total == 6.0


def test_foreach_over_an_r_list_and_vector_splits_by_element(run_r, client_state):
    _ok(run_r("foreach.R"))
    run = _run("ForeachRFlow")
    assert len(list(run["each_config"])) == 2
    assert list(run["join_configs"].task.data.results) == ["small 2", "big 20"]
    assert list(run["each_letter"].task.data.upper) in (["X"], ["Y"], ["Z"])
    assert list(run.data.uppers) == ["X", "Y", "Z"]
    assert list(run.data.positions) == [0, 1, 2]


def test_an_r_stop_fails_the_task_with_its_message_and_r_traceback(run_r, client_state):
    done = run_r("failing.R")
    assert done.returncode == 1
    headline = "RError: the model did not converge on kept"
    assert f"task 1/boom/2: {headline}" in done.stderr
    assert "Rscript failing.R logs 1/boom/2" in done.stdout + done.stderr  # how to see more
    run = _run("FailingRFlow")
    task = run["boom"].task
    assert task.exception.startswith(headline + "\n")
    assert "R traceback" in task.exception
    log = task.stderr
    assert "R traceback (most recent call last):" in log
    assert "failing.R:13: helper_that_fails(self$before)" in log
    assert 'failing.R:17: stop("the model did not converge on ", x)' in log
    assert "Retrying" in done.stdout + done.stderr  # @retry(times=1) applied
    # resume from the shell runs the failed step again; start is cloned
    resumed = run_r("failing.R", "resume", "--origin-run-id", run.id, env_extra={"BOOM": "off"})
    _ok(resumed)
    again = _run("FailingRFlow")
    assert again.id != run.id and again.successful
    assert again["boom"].task.data.after == "fixed"
    assert again["start"].task.origin_pathspec is not None


def test_catch_keeps_an_r_failure_and_the_flow_goes_on(run_r, client_state):
    _ok(run_r("caught.R"))
    run = _run("CaughtRFlow")
    assert run.data.seen is True
    assert "no data today" in str(run["start"].task.data.failure)


def test_a_missing_r_package_is_one_line_naming_it(r_env, run_flow):
    done = run_flow(R_FLOWS / "needs_pkg.py", "run", env=r_env)
    assert done.returncode == 1
    line = (
        "RSetupError: R package 'notinstalledpkg42' is not installed: install it (on Debian: "
        "apt-get install r-cran-notinstalledpkg42) and run again"
    )
    assert "task 1/start/" in done.stderr and line in done.stderr


def test_show_and_logs_from_the_shell(run_r):
    show = _ok(run_r("hello.R", "show"))
    assert "start" in show and "hello" in show and "Runs R function start()." in show
    _ok(run_r("hello.R"))
    logs = _ok(run_r("hello.R", "logs", "1/hello"))
    assert "Metaflow says: Hi" in logs


def test_run_options_in_the_script_and_text_parameters_escaped(run_r, client_state):
    _ok(run_r("options.R"))
    run = _run("OptionsRFlow")
    assert run.data.seen_alpha == 5.0
    assert {"from-run", "second"} <= set(run.data.seen_tags)
    assert run.data.label == 'it\'s "quoted"\\ and\nnew-lined'
    _ok(run_r("options.R", "run", "--alpha", "7"))  # the command line wins
    assert _run("OptionsRFlow").data.seen_alpha == 7.0


def test_r_steps_need_the_r_package_with_one_line(tmp_path, run_flow, r_env):
    empty = tmp_path / "empty-library"
    empty.mkdir()
    env = dict(r_env, R_LIBS=str(empty), R_LIBS_USER=str(empty))
    probe = subprocess.run(
        ["Rscript", "-e", "quit(status = requireNamespace('headwater', quietly = TRUE))"], env=env
    )
    if probe.returncode == 1:
        pytest.skip("the headwater R package is installed in R's own library here")
    done = run_flow(R_FLOWS / "needs_pkg.py", "run", env=env)
    assert done.returncode == 1
    assert "the headwater R package is not installed in this R" in done.stderr


def test_rscript_missing_is_one_line(run_flow, r_env):
    env = dict(r_env, HEADWATER_RSCRIPT="/nonexistent/Rscript")
    done = run_flow(R_FLOWS / "needs_pkg.py", "run", env=env)
    assert done.returncode == 1
    assert "RSetupError: /nonexistent/Rscript was not found: install R" in done.stderr


def test_python_check_reads_a_generated_flow(run_r):
    _ok(run_r("hello.R", "show"))  # writes hello.R.py in the test's directory
    done = subprocess.run(
        [sys.executable, "hello.R.py", "check"], capture_output=True, text=True, cwd=os.getcwd()
    )
    assert done.returncode == 0, done.stderr
