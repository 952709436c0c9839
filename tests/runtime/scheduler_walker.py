"""A tiny stand-in for a production scheduler: runs a flow one ``step`` command at a time.

It knows what a compiled DAG knows: the flow's graph (recorded with the run's parameters),
and after each task what the datastore says it did (its transition: targets, foreach width).
It runs ``init``, then every task as ``python flow.py step STEP --run-id R --input-paths ...
[--split-index I] [--retry-count K]`` in its own process, retrying a failed attempt as a
scheduler would, and waits for every split of a join before starting it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import deque
from pathlib import Path

from headwater.core.ids import AttemptPath, params_path
from headwater.stores import open_datastore

_FINISHED = re.compile(
    r"\[([^/\]]+)/([^/\]]+)/([^\]]+)\] Task (?:finished successfully|is starting)"
)


class Walk:
    def __init__(self, flow_file: Path, flow_name: str, root: Path, env: dict, cwd: Path):
        self.flow_file = flow_file
        self.flow = flow_name
        self.ds = open_datastore("local", str(root))
        self.env = env
        self.cwd = cwd
        self.commands: list[list[str]] = []
        self.outputs: list[subprocess.CompletedProcess] = []

    def command(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = [sys.executable, str(self.flow_file), *args]
        self.commands.append(argv)
        proc = subprocess.run(
            argv, env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=120
        )
        self.outputs.append(proc)
        if check:
            assert proc.returncode == 0, (argv, proc.stdout, proc.stderr)
        return proc

    def step(self, run_id, step, inputs, split_index, retries) -> tuple[str, int]:
        """Run one task, retrying up to ``retries`` times; (task id, attempt that ended it)."""
        for attempt in range(retries + 1):
            args = ["step", step, "--run-id", run_id, "--retry-count", str(attempt)]
            if inputs:
                args += ["--input-paths", ",".join(inputs)]
            if split_index is not None:
                args += ["--split-index", str(split_index)]
            proc = self.command(*args, check=False)
            found = _FINISHED.search(proc.stderr)
            assert found, proc.stderr
            task_id = found.group(3)
            if proc.returncode == 0:
                return task_id, attempt
            assert proc.returncode in (1, 202), proc.stderr
            if proc.returncode == 202:
                break
        raise AssertionError(f"task {step} failed after {attempt + 1} attempts: {proc.stderr}")

    def run(self, run_id: str, params: tuple[str, ...] = (), retries: dict | None = None) -> None:
        self.command("init", "--run-id", run_id, *params)
        self.run_id = run_id
        retries = retries or {}
        queue = deque([("start", (), None, ())])  # step, inputs, split index, frames
        joins: dict[tuple, dict[int, str]] = {}
        while queue:
            step, inputs, split_index, frames = queue.popleft()
            task_id, attempt = self.step(run_id, step, inputs, split_index, retries.get(step, 0))
            me = f"{run_id}/{step}/{task_id}"
            index = self.ds.read_index(AttemptPath(self.flow, run_id, step, task_id, attempt))
            t = index.attrs["transition"]
            kind, targets = t["kind"], t.get("targets", [])
            if kind == "end":
                continue
            if kind in ("linear", "switch"):
                nexts = [(targets[0], None, frames)]
            elif kind == "split":
                nexts = [
                    (target, None, (*frames, (me, i, len(targets))))
                    for i, target in enumerate(targets)
                ]
            else:  # foreach
                n = t["num_splits"]
                nexts = [(targets[0], i, (*frames, (me, i, n))) for i in range(n)]
            for target, split, child_frames in nexts:
                if self.is_join(target):
                    split_task, i, n = child_frames[-1]
                    arrived = joins.setdefault((target, split_task), {})
                    arrived[i] = me
                    if len(arrived) == n:
                        parents = tuple(arrived[k] for k in sorted(arrived))
                        queue.append((target, parents, None, child_frames[:-1]))
                else:
                    queue.append((target, (me,), split, child_frames))

    def is_join(self, step: str) -> bool:
        """From the graph the run recorded with its parameters (a compiled DAG knows it)."""
        if not hasattr(self, "_graph"):
            params = self.ds.read_index(params_path(self.flow, self.run_id))
            self._graph = params.attrs["graph"]["steps"]
        return bool(self._graph[step]["is_join"])
