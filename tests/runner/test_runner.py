"""Runner: run and resume flows from Python, blocking and async, with output captured."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from headwater import Runner
from headwater.client import Flow
from headwater.exceptions import ParameterError, RunnerError

pytestmark = pytest.mark.slow  # every test starts runs


def test_run_returns_the_client_run_status_and_output(runner_flow):
    with Runner(runner_flow, show_output=False) as runner:
        running = runner.run(alpha=0.25, tags=["nightly", "with space"], max_workers=2)
        assert running.status == "successful"
        assert running.returncode == 0
        assert "alpha is 0.25" in running.stdout
        assert "Run 1 of RunnerFlow completed" in running.stderr
        run = running.run
        assert run.pathspec == "RunnerFlow/1"
        assert run.successful
        assert run["middle"].task.data.doubled == 0.5
        assert {"nightly", "with space"} <= run.user_tags
        assert Flow("RunnerFlow").latest_run == run


def test_parameters_of_every_kind_reach_the_flow(runner_flow):
    with Runner(runner_flow, show_output=False) as runner:
        run = runner.run(
            alpha=2,
            flag=True,
            switch=True,
            items=["x", "y z"],
            cfg={"a": [1, 2], "b": None},
            num_rows=7,
        ).run
        assert run["start"].task.data.values == {
            "alpha": 2.0,
            "flag": True,
            "switch": True,
            "items": ["x", "y z"],
            "cfg": {"a": [1, 2], "b": None},
            "num_rows": 7,
        }
        # Defaults apply to what is not given; a False flag is simply left out.
        run = runner.run(flag=False, switch=False).run
        values = run["start"].task.data.values
        assert values["alpha"] == 0.5 and values["switch"] is False and values["items"] == ["a"]
        assert values["cfg"] == {"k": 1}


def test_unknown_parameter_fails_before_starting(runner_flow):
    with (
        Runner(runner_flow, show_output=False) as runner,
        pytest.raises(ParameterError, match="RunnerFlow has no parameter 'beta'"),
    ):
        runner.run(beta=1)
    with (
        Runner(runner_flow, show_output=False) as runner,
        pytest.raises(ParameterError, match="no parameter 'alhpa': did you mean 'alpha'"),
    ):
        runner.run(alhpa=1)


def test_a_run_that_cannot_start_raises_with_the_command_error(runner_flow):
    with (
        Runner(runner_flow, show_output=False) as runner,
        pytest.raises(RunnerError, match="did not start a run.*expects a number, got 'x'"),
    ):
        runner.run(alpha="x")


def test_missing_flow_file_is_a_clear_error(tmp_path):
    with pytest.raises(RunnerError, match="not found"):
        Runner(tmp_path / "nope.py")


def test_failing_flow_then_resume(runner_flow):
    with Runner(runner_flow, show_output=False, env={"RUNNER_FLOW_FAIL": "1"}) as runner:
        failed = runner.run(alpha=3)
    assert failed.status == "failed"
    assert failed.returncode == 1
    assert "middle was asked to fail" in failed.stdout + failed.stderr
    assert "error: run 1 of RunnerFlow failed: task 1/middle/" in failed.stderr
    assert not failed.run.successful

    with Runner(runner_flow, show_output=False) as runner:
        resumed = runner.resume(origin_run_id=failed.run.id)
    assert resumed.status == "successful", resumed.stderr
    run = resumed.run
    assert run.id == "2"
    assert run.origin_pathspec == "RunnerFlow/1"
    assert run["middle"].task.data.doubled == 6  # the parameter came from the origin run
    assert run["start"].task.origin_pathspec is not None  # cloned, not run again


def test_resume_from_a_given_step(runner_flow):
    with Runner(runner_flow, show_output=False) as runner:
        first = runner.run(alpha=1).run
        again = runner.resume(step="middle").run
    assert again.origin_pathspec == first.pathspec
    assert again["start"].task.origin_pathspec is not None
    assert again["middle"].task.origin_pathspec is None


def test_resume_rejects_parameters(runner_flow):
    with (
        Runner(runner_flow, show_output=False) as runner,
        pytest.raises(RunnerError, match="resume\\(\\) has no option 'alpha'"),
    ):
        runner.resume(alpha=1)


def test_show_output_echoes_while_capturing(runner_flow, capfd):
    with Runner(runner_flow) as runner:
        running = runner.run()
    out, err = capfd.readouterr()
    assert "alpha is 0.5" in out and "alpha is 0.5" in running.stdout
    assert "Run 1 of RunnerFlow completed" in err


def test_context_manager_removes_temporary_files(runner_flow):
    runner = Runner(runner_flow, show_output=False)
    with runner:
        runner.run()
        tmpdir = Path(runner._tmpdir)
        assert tmpdir.is_dir()
    assert not tmpdir.exists()
    # Without a with block, cleanup() does the same; an ExecutingRun's with block calls it.
    with Runner(runner_flow, show_output=False).run() as running:
        tmpdir = Path(running.runner._tmpdir)
    assert not tmpdir.exists()


def test_top_level_options_and_cwd(runner_flow, tmp_path, client):
    other_root = tmp_path / "elsewhere" / ".headwater"
    workdir = tmp_path / "work"
    workdir.mkdir()
    with Runner(
        runner_flow, show_output=False, cwd=workdir, datastore_root=str(other_root), pylint=False
    ) as runner:
        running = runner.run()
    assert running.status == "successful", running.stderr
    assert "--no-pylint" in running.command and "--datastore-root" in running.command
    assert (other_root / "metadata.db").exists()
    assert running.run.data is not None


def test_config_options_become_top_level_words():
    from headwater.runner.command import top_level_args

    words = top_level_args(
        {"config": [("cfg", "cfg.json")], "config_value": {"extra": {"a": 1}, "raw": "{}"}}
    )
    assert words == [
        "--config", "cfg", "cfg.json",
        "--config-value", "extra", '{"a": 1}',
        "--config-value", "raw", "{}",
    ]  # fmt: skip
    with pytest.raises(RunnerError, match=r"config= takes \(name, value\) pairs"):
        top_level_args({"config": ["cfg.json"]})


def test_async_run_streams_logs_and_waits(runner_flow):
    async def main():
        async with Runner(runner_flow) as runner:
            running = await runner.async_run(alpha=4)
            assert running.run.pathspec == "RunnerFlow/1"  # the run exists right away
            lines = [line async for _, line in running.stream_log("stdout")]
            await running.wait()
            return running, lines

    running, lines = asyncio.run(main())
    assert running.status == "successful"
    assert running.returncode == 0
    assert any("alpha is 4" in line for line in lines)
    assert running.run["middle"].task.data.doubled == 8


def test_async_stream_log_resumes_from_a_position(runner_flow):
    async def main():
        with Runner(runner_flow, show_output=False) as runner:
            running = await runner.async_run()
            await running.wait()
            all_lines = [item async for item in running.stream_log("stderr")]
            rest = [item async for item in running.stream_log("stderr", position=2)]
            return all_lines, rest

    all_lines, rest = asyncio.run(main())
    assert [pos for pos, _ in all_lines] == list(range(len(all_lines)))
    assert rest == all_lines[2:]


def test_async_resume_and_a_failing_async_run(runner_flow):
    async def main():
        with Runner(runner_flow, show_output=False, env={"RUNNER_FLOW_FAIL": "1"}) as runner:
            failed = await runner.async_run()
            await failed.wait()
        with Runner(runner_flow, show_output=False) as runner:
            resumed = await runner.async_resume()
            await resumed.wait()
        return failed, resumed

    failed, resumed = asyncio.run(main())
    assert (failed.status, failed.returncode) == ("failed", 1)
    assert resumed.status == "successful"
    assert resumed.run.origin_pathspec == failed.run.pathspec


def test_leaving_the_context_stops_a_run_still_going(runner_flow):
    async def main():
        runner = Runner(runner_flow, show_output=False, env={"RUNNER_FLOW_SLEEP": "60"})
        async with runner:
            running = await runner.async_run()
            assert running.status == "running"
            async for _, line in running.stream_log("stdout"):
                if "alpha is" in line:  # the task is in its long sleep
                    break
            started = time.monotonic()
        return running, runner, time.monotonic() - started

    running, runner, _ = asyncio.run(main())
    assert running.status == "failed"
    assert running.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(running._child.popen.pid, 0)
    assert runner._tmpdir is None
    assert not running.run.finished


def test_wait_with_a_timeout_stops_the_run(runner_flow):
    async def main():
        with Runner(runner_flow, show_output=False, env={"RUNNER_FLOW_SLEEP": "60"}) as runner:
            running = await runner.async_run()
            await running.wait(timeout=0.5)
            return running

    running = asyncio.run(main())
    assert running.status == "failed"


def test_interrupting_a_blocking_run_stops_it(runner_flow):
    import signal
    import threading

    runner = Runner(runner_flow, show_output=False, env={"RUNNER_FLOW_SLEEP": "60"})
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            runner.run()
    finally:
        timer.cancel()
    (child,) = runner._children
    assert child.returncode is not None  # the run did not go on in the background
    runner.cleanup()
