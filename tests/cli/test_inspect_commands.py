"""``dump`` and ``logs`` handlers, driven through argparse with a stand-in CliContext."""

from __future__ import annotations

import importlib.util
import pickle
import sys
from pathlib import Path

import pytest

from headwater.cli import cmd_inspect
from headwater.exceptions import (
    CommandLineError,
    HeadwaterException,
    InvalidPathspec,
    ObjectNotFound,
)
from headwater.metadata_store.records import RunStatus


def _load_run_builder():
    name = "run_builder"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "client" / "run_builder.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_fixtures = _load_run_builder()
RunBuilder = _fixtures.RunBuilder


def Cli(root: Path):
    return _fixtures.CommandRunner(root, cmd_inspect.register)


@pytest.fixture
def builder(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADWATER_USER", "alice")
    b = RunBuilder(tmp_path / ".headwater")
    yield b
    b.close()


@pytest.fixture
def cli(builder):
    return Cli(builder.root)


# --- dump ---------------------------------------------------------------------------------------


def test_dump_one_task(builder, cli):
    run = builder.linear(params={"alpha": 0.5})
    task = builder.meta.list_tasks("HelloFlow", run.run_id, "a")[0]
    code, out, err = cli("dump", f"{run.run_id}/a/{task.task_id}")
    assert code == 0
    text = out.decode()
    assert text.splitlines() == [
        f"HelloFlow/{run.run_id}/a/{task.task_id} (attempt 0):",
        "    alpha: 0.5",
        "    x: 1",
        "    y: 2",
    ]


def test_dump_every_task_of_a_step_and_private(builder, cli):
    run = builder.run()
    start = builder.task(run, "start", {"items": [1, 2]})
    kids = [builder.task(run, "work", {"out": i, "_p": i}, parents=[start]) for i in range(2)]
    code, out, _ = cli("dump", f"{run.run_id}/work")
    text = out.decode()
    headers = [line for line in text.splitlines() if not line.startswith(" ")]
    assert headers == [f"{k.pathspec} (attempt 0):" for k in kids]  # oldest first
    assert "_p" not in text
    _, out, _ = cli("dump", f"{run.run_id}/work", "--private")
    assert "    _p: 0" in out.decode() and "    _p: 1" in out.decode()
    # a full pathspec is accepted too
    _, out, _ = cli("dump", f"HelloFlow/{run.run_id}/work/{kids[0].task_id}")
    assert "    out: 0" in out.decode()


def test_dump_summarises_big_values_and_truncates_reprs(builder, cli):
    run = builder.run()
    builder.task(run, "start", {"big": list(range(5000)), "long": "x" * 900, "small": "hi"})
    _, out, _ = cli("dump", f"{run.run_id}/start")
    lines = out.decode().splitlines()
    big = next(line for line in lines if line.startswith("    big:"))
    assert big.startswith("    big: <builtins.list, ") and big.endswith(" bytes>")
    long_line = next(line for line in lines if line.startswith("    long:"))
    assert long_line.endswith(" ...") and len(long_line) < 600
    assert "    small: 'hi'" in lines
    _, out, _ = cli("dump", f"{run.run_id}/start", "--max-value-size", "10")
    assert "    small: 'hi'" not in out.decode().splitlines()
    assert "    small: <builtins.str, " in out.decode()
    _, out, _ = cli("dump", f"{run.run_id}/start", "--max-value-size", "100000")
    assert "    big: [0, 1, 2" in out.decode()


def test_dump_multiline_repr_is_indented(builder, cli):
    run = builder.run()
    builder.task(run, "start", {"text": Multi()})
    _, out, _ = cli("dump", f"{run.run_id}/start")
    assert out.decode().splitlines()[1:] == ["    text: first", "        second"]


class Multi:
    def __repr__(self):
        return "first\nsecond"


def test_dump_include(builder, cli):
    run = builder.linear()
    _, out, err = cli("dump", f"{run.run_id}/start", "--include", "x, _secret,nope")
    lines = out.decode().splitlines()
    assert lines[1:] == ["    x: 1", "    _secret: 'hidden'"]
    assert "has no artifact 'nope'" in err
    with pytest.raises(CommandLineError):
        cli("dump", f"{run.run_id}/start", "--include", ",")


def test_dump_to_file(builder, cli, tmp_path):
    run = builder.run()
    start = builder.task(run, "start", {"big": list(range(5000)), "s": "v", "_p": 1})
    target = tmp_path / "out.pkl"
    code, out, err = cli("dump", f"{run.run_id}/start", "--file", str(target))
    assert code == 0 and out == b""
    assert str(target) in err
    data = pickle.loads(target.read_bytes())
    assert data == {start.pathspec: {"big": list(range(5000)), "s": "v"}}
    cli("dump", f"{run.run_id}/start", "--file", str(target), "--max-value-size", "100")
    assert pickle.loads(target.read_bytes()) == {start.pathspec: {"s": "v"}}
    with pytest.raises(CommandLineError, match="could not write"):
        cli("dump", f"{run.run_id}/start", "--file", str(tmp_path / "no" / "dir" / "f.pkl"))


def test_dump_unknown_run_step_task(builder, cli):
    run = builder.linear()
    with pytest.raises(ObjectNotFound) as err:
        cli("dump", "42/start")
    assert str(err.value) == (
        "run 42 of HelloFlow not found: list runs with Flow('HelloFlow').runs() or check the id"
    )
    with pytest.raises(ObjectNotFound, match="step 'nope' not found .* start, a, end"):
        cli("dump", f"{run.run_id}/nope")
    with pytest.raises(ObjectNotFound, match="task 77 not found"):
        cli("dump", f"{run.run_id}/start/77")
    for bad in ("3", "3/start/1/2", "/", "3//1"):
        with pytest.raises(InvalidPathspec):
            cli("dump", bad)


def test_dump_reads_runs_of_any_user(builder, cli):
    run = builder.linear(user="bob")
    code, out, _ = cli("dump", f"{run.run_id}/end")
    assert code == 0 and b"    z: 3" in out


def test_dump_task_without_artifacts(builder, cli):
    run = builder.run()
    rec = builder.meta.create_task("HelloFlow", run.run_id, "start")
    builder.meta.start_attempt("HelloFlow", run.run_id, "start", rec.task_id, 0)
    _, out, _ = cli("dump", f"{run.run_id}/start")
    assert out.decode().splitlines()[1] == "    (no artifacts)"


# --- logs ---------------------------------------------------------------------------------------


def test_logs_prints_bytes_as_saved(builder, cli):
    run = builder.run()
    rec = builder.task(run, "start", stdout=b"out 1\nout \xe2\x9c\x93\n", stderr=b"err 1\n")
    code, out, err = cli("logs", f"{run.run_id}/start/{rec.task_id}")
    assert code == 0
    assert out == b"out 1\nout \xe2\x9c\x93\nerr 1\n"
    _, out, _ = cli("logs", f"{run.run_id}/start/{rec.task_id}", "--stdout")
    assert out == b"out 1\nout \xe2\x9c\x93\n"
    _, out, _ = cli("logs", f"{run.run_id}/start/{rec.task_id}", "--stderr")
    assert out == b"err 1\n"
    _, out, _ = cli("logs", f"{run.run_id}/start/{rec.task_id}", "--stdout", "--stderr")
    assert out == b"out 1\nout \xe2\x9c\x93\nerr 1\n"


def test_logs_of_attempts(builder, cli):
    run = builder.run()
    rec = builder.task(run, "start", failures=1, stdout=[b"first try\n", b"second try\n"])
    _, out, _ = cli("logs", f"{run.run_id}/start/{rec.task_id}")
    assert out == b"second try\n"  # the successful attempt by default
    _, out, _ = cli("logs", f"{run.run_id}/start/{rec.task_id}", "--attempt", "0")
    assert out == b"first try\n"
    with pytest.raises(ObjectNotFound, match="has no attempt 5"):
        cli("logs", f"{run.run_id}/start/{rec.task_id}", "--attempt", "5")
    with pytest.raises(CommandLineError):
        cli("logs", f"{run.run_id}/start/{rec.task_id}", "--attempt", "-1")


def test_logs_of_every_task_of_a_step(builder, cli):
    run = builder.run()
    start = builder.task(run, "start")
    a = builder.task(run, "work", parents=[start], stdout=b"task a\n")
    b = builder.task(run, "work", parents=[start], stdout=[b"b0\n", b"b1\n"], failures=1)
    _, out, err = cli("logs", f"{run.run_id}/work")
    assert out == b"task a\nb1\n"
    assert f"--- {a.pathspec} (attempt 0) ---" in err
    assert f"--- {b.pathspec} (attempt 1) ---" in err
    _, out, _ = cli("logs", f"{run.run_id}/work", "--attempt", "0")
    assert out == b"task a\nb0\n"
    _, out, err = cli("logs", f"{run.run_id}/work", "--attempt", "1")
    assert out == b"b1\n"  # only b has an attempt 1
    assert b.pathspec not in err and a.pathspec not in err  # one task: no header
    with pytest.raises(ObjectNotFound, match="no task of .* has an attempt 4"):
        cli("logs", f"{run.run_id}/work", "--attempt", "4")


def test_logs_says_when_nothing_was_saved(builder, cli):
    run = builder.linear(status=RunStatus.COMPLETED)
    _, out, err = cli("logs", f"{run.run_id}/end")
    assert out == b""
    assert "saved no stdout or stderr output" in err
    _, _, err = cli("logs", f"{run.run_id}/end", quiet=True)
    assert err == ""


def test_logs_unknown_run(builder, cli):
    builder.linear()
    with pytest.raises(ObjectNotFound, match="run 9 of HelloFlow not found"):
        cli("logs", "9/start")


def test_errors_are_one_line(builder, cli):
    builder.linear()
    for argv in (("dump", "9/start"), ("logs", "1/zzz"), ("dump", "x")):
        with pytest.raises(HeadwaterException) as err:
            cli(*argv)
        assert "\n" not in str(err.value)


def test_missing_datastore(tmp_path, monkeypatch):
    from headwater.exceptions import DatastoreNotFound

    cli = Cli(tmp_path / "nothing")
    with pytest.raises(DatastoreNotFound):
        cli("dump", "1/start")
