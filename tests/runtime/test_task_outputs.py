"""What a scheduled task leaves for its scheduler (`step --output-dir`), JSON input paths, and
`init --runtime/--production-token`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from scheduler_walker import Walk

from headwater import Flow, Run, metadata, namespace

FLOWS = Path(__file__).resolve().parent.parent / "flows"


def _walk(name: str, flow: str, hw_root: Path) -> Walk:
    return Walk(FLOWS / name, flow, hw_root, dict(os.environ), hw_root.parent)


def _read(directory: Path) -> dict:
    files = {p.name: p.read_text() for p in directory.iterdir()}
    files["task.json"] = json.loads(files["task.json"])
    return files


def test_a_task_writes_what_the_scheduler_needs_next(hw_root, tmp_path):
    walk = _walk("foreach.py", "ForeachFlow", hw_root)
    walk.command("init", "--run-id", "r", "--runtime", "airflow", "--production-token", "tok-1")
    out = tmp_path / "start"
    walk.command("step", "start", "--run-id", "r", "--output-dir", str(out))
    start = _read(out)
    task = start["task.json"]
    assert start["input_path"] == f"r/start/{start['task_id']}" == task["input_path"]
    assert json.loads(start["splits"]) == [0, 1, 2]  # indexes, never the values
    assert start["branch"] == "square"
    assert task["ok"] and task["attempt"] == 0 and task["stack"] == []
    assert task["transition"]["kind"] == "foreach" and task["transition"]["num_splits"] == 3

    squares = []
    for i in range(3):
        sq = tmp_path / f"square{i}"
        walk.command("step", "square", "--run-id", "r", "--input-paths", start["input_path"],
                     "--split-index", str(i), "--output-dir", str(sq))  # fmt: skip
        got = _read(sq)
        assert json.loads(got["splits"]) == [] and got["branch"] == "join"
        assert got["task.json"]["stack"][-1]["index"] == i
        squares.append(got["input_path"])
    # a JSON list of input paths (what Argo gathers from a mapped task), in any order
    walk.command("step", "join", "--run-id", "r", "--input-paths", json.dumps(squares[::-1]),
                 "--output-dir", str(tmp_path / "join"))  # fmt: skip
    join = _read(tmp_path / "join")
    walk.command("step", "end", "--run-id", "r", "--input-paths", join["input_path"],
                 "--output-dir", str(tmp_path / "end"))  # fmt: skip
    end = _read(tmp_path / "end")
    assert end["branch"] == "" and end["task.json"]["transition"]["kind"] == "end"

    metadata(f"local@{hw_root}")
    namespace(None)
    run = Run("ForeachFlow/r")
    assert run.successful
    assert run.data.squares == [1, 4, 9]  # the join saw its inputs in foreach order
    assert "runtime:airflow" in run.system_tags and "production:tok-1" in run.system_tags
    assert "runtime:scheduled" not in run.system_tags
    namespace("production:tok-1")
    assert [r.id for r in Flow("ForeachFlow")] == ["r"]


def test_bad_runtime_names_and_input_lists_say_why(hw_root):
    walk = _walk("foreach.py", "ForeachFlow", hw_root)
    bad = walk.command("init", "--run-id", "r", "--runtime", "air flow", check=False)
    assert bad.returncode == 1 and "--runtime 'air flow'" in bad.stderr
    walk.command("init", "--run-id", "r")
    bad = walk.command("step", "square", "--run-id", "r", "--input-paths", "[not json",
                       check=False)  # fmt: skip
    assert bad.returncode == 1 and "is not a JSON list" in bad.stderr
