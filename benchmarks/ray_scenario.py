"""The Ray scenario: a 1000-way foreach of trivial tasks on a local 2-CPU Ray cluster, against
Metaflow's local runtime and headwater's fork executor on the same flow, and headwater's
per-task cost on Ray against Ray's own floor (an empty remote function) in the same run.

The cluster is a real ``ray start --head`` on 127.0.0.1 (2 CPUs, a small object store, every
port on loopback), started once for the scenario and stopped at its end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

from bench_core import HERE, Bench, Outcome, RunFailed, Settings, alternate, fmt_s, median, progress

WIDTH = 1000
# Metaflow's foreach1000 median when the foreach1000 scenario ran earlier in this invocation
# (it takes 4-13 minutes: it is not run twice).
METAFLOW_FOREACH1000: list[float] = []


def _ray_fixture() -> Any:
    """tests/fixtures/ray_cluster.py: the benchmark starts the tests' local Ray head."""
    tests = str(HERE.parent / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from fixtures import ray_cluster

    return ray_cluster


def _start_head(python: str) -> Any:
    try:
        return _ray_fixture().RayHead(cpus=2, object_store_mb=100, python=python).start()
    except RuntimeError as e:
        raise RunFailed(f"ray start failed: {e}") from None


def _floor(b: Bench, head: Any) -> dict:
    workdir = b.new_dir("ray-floor")
    env = {**b.env(workdir), **_ray_fixture().LOOPBACK_ENV}
    proc = subprocess.run(
        [b.hw.python, str(HERE / "ray" / "floor.py"), head.address, str(WIDTH)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise RunFailed(f"the Ray floor script failed: {proc.stderr.strip()[-500:]}")
    shutil.rmtree(workdir, ignore_errors=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scenario_ray_foreach1000(b: Bench, s: Settings) -> Outcome:
    out = Outcome("ray_foreach1000", ">= 10x Metaflow, <= 3x fork")
    head = _start_head(b.hw.python)
    try:
        floors = [_floor(b, head)]
        ray_args = ["--executor", "ray", "--ray-address", head.address]
        wide = ["--width", str(WIDTH), "--max-num-splits", str(WIDTH)]
        one = ["--width", "1", "--max-num-splits", str(WIDTH)]

        def run(args: list[str]) -> float:
            return b.run_flow(b.hw, "foreach.py", args)[0]

        arms = {
            "headwater-ray": lambda: run([*ray_args, *wide]),
            "headwater-fork": lambda: run(wide),
            "headwater-ray-w1": lambda: run([*ray_args, *one]),
        }
        reps = {"headwater-ray": s.repeat, "headwater-fork": s.repeat, "headwater-ray-w1": 3}
        given = os.environ.get("BENCH_METAFLOW_FOREACH1000_S")
        if given and not METAFLOW_FOREACH1000:
            METAFLOW_FOREACH1000.append(float(given))  # measured earlier, on this machine
        if not METAFLOW_FOREACH1000:
            progress("  (Metaflow's foreach1000 did not run before: running it once, 4-13 min)")
            arms["metaflow"] = lambda: b.run_flow(b.mf, "foreach.py", wide)[0]
            reps["metaflow"] = 1
        out.samples = alternate(arms, reps, "ray_foreach1000")
        floors.append(_floor(b, head))
    finally:
        head.remove()
    ray_s = median(out.samples["headwater-ray"])
    fork_s = median(out.samples["headwater-fork"])
    mf_s = median(out.samples.get("metaflow") or METAFLOW_FOREACH1000)
    ray_1 = median(out.samples["headwater-ray-w1"])
    per_task = (ray_s - ray_1) / (WIDTH - 1)
    floor = median([f["per_task_s"] for f in floors])
    out.headwater_s, out.metaflow_s = ray_s, mf_s
    out.ratio = mf_s / ray_s
    out.passed = out.ratio >= 10 and ray_s <= 3 * fork_s
    out.extra = {
        "fork_s": fork_s,
        "ray_over_fork": ray_s / fork_s,
        "ray_width1_s": ray_1,
        "ray_per_task_s": per_task,
        "ray_floor_per_task_s": floor,
        "floors": floors,
        "metaflow_from": (
            "this scenario"
            if "metaflow" in out.samples
            else "BENCH_METAFLOW_FOREACH1000_S"
            if os.environ.get("BENCH_METAFLOW_FOREACH1000_S")
            else "foreach1000"
        ),
    }
    out.notes.append(
        f"headwater on Ray {fmt_s(ray_s)} vs headwater fork {fmt_s(fork_s)}: "
        f"{ray_s / fork_s:.1f}x (target <= 3x); Metaflow {fmt_s(mf_s)}: {out.ratio:.1f}x faster "
        "(target >= 10x)"
    )
    out.notes.append(
        f"per task on Ray: {per_task * 1000:.1f} ms ((1000-way - 1-way) / 999; the 1-way run, "
        f"{fmt_s(ray_1)}, is mostly connecting and starting the job's workers) vs Ray's floor, "
        f"an empty remote function: {floor * 1000:.2f} ms"
    )
    return out
