"""R scenarios: a 3-step R flow, and a 1,000,000-row data frame crossing between R and Python.

Metaflow's R package is on no package registry this machine reaches (it comes from CRAN or
GitHub), so ``make bench`` cannot install it: ``r_linear3`` compares headwater with the figure
measured for Metaflow R's hello world (3 steps) on this machine, ``METAFLOW_R_HELLO_S``. Where
it is installed by hand, ``BENCH_METAFLOW_R_LIB`` (an R library holding it) and
``BENCH_METAFLOW_R_PYTHON`` (the Python it runs Metaflow with: metaflow, numpy < 2, pandas)
make the scenario run it too, alternating with headwater. Both scenarios need Debian's R
(``make test`` installs it) and install the headwater R package from ``r/`` into the harness's
temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from bench_core import (
    HERE,
    Bench,
    Outcome,
    RunFailed,
    Settings,
    alternate,
    fmt_s,
    median,
    progress,
)

R_DIR = HERE / "r"
METAFLOW_R_HELLO_S = 11.0  # Metaflow R's hello world, `Rscript helloworld.R run`, on this machine
TARGET_RATIO = 5.0
FRAME_TARGET_S = 2.0


def _r_env(b: Bench, workdir: Path) -> dict[str, str]:
    """The harness environment, plus the private R library and headwater's Python."""
    lib = b.base / "R-library"
    if not lib.exists():
        if shutil.which("Rscript") is None:
            raise RunFailed("Rscript is not installed: make test (or apt-get) installs R")
        lib.mkdir()
        done = subprocess.run(
            ["R", "CMD", "INSTALL", "--no-docs", "-l", str(lib), str(HERE.parent / "r")],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RunFailed(f"R CMD INSTALL r failed: {done.stderr[-500:]}")
    env = b.env(workdir)
    env.update(R_LIBS=str(lib), HEADWATER_PYTHON=b.hw.python)
    return env


def _timed(cmd: list[str], workdir: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        raise RunFailed(f"{' '.join(cmd)} in {workdir} exited {done.returncode}: {tail}")
    return seconds, done.stdout


def scenario_r_linear3(b: Bench, s: Settings) -> Outcome:
    """``Rscript flow.R run`` of three trivial R steps, each in a fresh directory."""
    out = Outcome("r_linear3", f">= {TARGET_RATIO:g}x Metaflow R")
    mf_lib = os.environ.get("BENCH_METAFLOW_R_LIB")
    mf_python = os.environ.get("BENCH_METAFLOW_R_PYTHON")

    def headwater() -> float:
        workdir = b.new_dir("headwater-r-linear3")
        shutil.copy(R_DIR / "linear3.R", workdir / "flow.R")
        seconds, _ = _timed(["Rscript", "flow.R", "run"], workdir, _r_env(b, workdir))
        shutil.rmtree(workdir, ignore_errors=True)
        return seconds

    def metaflow() -> float:
        workdir = b.new_dir("metaflow-r-linear3")
        source = (R_DIR / "linear3.R").read_text()
        (workdir / "flow.R").write_text(source.replace("library(headwater)", "library(metaflow)"))
        env = b.env(workdir)
        env.update(R_LIBS=str(mf_lib), METAFLOW_PYTHON=str(mf_python))
        seconds, _ = _timed(["Rscript", "flow.R", "run"], workdir, env)
        shutil.rmtree(workdir, ignore_errors=True)
        return seconds

    headwater()  # warm-up: R's and the package's files into the page cache
    arms = {b.hw.name: headwater}
    if mf_lib and mf_python:
        metaflow()
        arms["metaflow-r"] = metaflow
    out.samples = alternate(arms, dict.fromkeys(arms, s.repeat), "r_linear3")
    out.headwater_s = median(out.samples[b.hw.name])
    if "metaflow-r" in arms:
        out.metaflow_s = median(out.samples["metaflow-r"])
        out.notes.append("Metaflow R: measured alongside (BENCH_METAFLOW_R_LIB)")
    else:
        out.metaflow_s = METAFLOW_R_HELLO_S
        out.notes.append(
            f"Metaflow R: the {METAFLOW_R_HELLO_S:g} s its hello world took on this machine "
            "(its R package is not on a registry here; see r_scenarios.py to run it)"
        )
    out.ratio = out.metaflow_s / out.headwater_s
    out.passed = out.ratio >= TARGET_RATIO
    return out


def scenario_r_frame1m(b: Bench, s: Settings) -> Outcome:
    """A 1,000,000 x 10 data frame from R to a pandas DataFrame and back (r/frame_cross.py)."""
    out = Outcome("r_frame1m", f"each way < {FRAME_TARGET_S:g} s")
    runs = []
    for i in range(max(1, s.repeat_slow)):
        workdir = b.new_dir("headwater-r-frame")
        _, stdout = _timed(
            [b.hw.python, str(R_DIR / "frame_cross.py")], workdir, _r_env(b, workdir)
        )
        shutil.rmtree(workdir, ignore_errors=True)
        runs.append(json.loads(stdout.strip().splitlines()[-1]))
        progress(
            f"  r_frame1m #{i + 1}  R->Python {fmt_s(runs[-1]['r_to_python_s'])}"
            f"  Python->R {fmt_s(runs[-1]['python_to_r_s'])}"
        )

    def med(key: str) -> float:
        return median([r[key] for r in runs])

    to_py, to_r = med("r_to_python_s"), med("python_to_r_s")
    out.samples = {k: [r[k] for r in runs] for k in runs[0]}
    out.headwater_s = max(to_py, to_r)
    out.passed = to_py < FRAME_TARGET_S and to_r < FRAME_TARGET_S
    out.extra = {k: med(k) for k in runs[0]}
    out.notes.append(
        f"R->Python {fmt_s(to_py)} (R writes {fmt_s(med('r_write_s'))}, stored "
        f"{fmt_s(med('py_store_s'))}, pandas {fmt_s(med('py_load_s'))}); Python->R {fmt_s(to_r)} "
        f"(encoded {fmt_s(med('py_encode_s'))}, R reads {fmt_s(med('r_read_s'))})"
    )
    out.notes.append(
        f"CPU seconds (what machine load does not inflate): R->Python "
        f"{fmt_s(med('r_to_python_cpu_s'))}, Python->R {fmt_s(med('python_to_r_cpu_s'))}, "
        f"readRDS {fmt_s(med('readRDS_cpu_s'))}"
    )
    out.notes.append(
        f"R's own: saveRDS {fmt_s(med('saveRDS_s'))} / readRDS {fmt_s(med('readRDS_s'))} "
        f"(uncompressed {fmt_s(med('saveRDS_uncompressed_s'))} / "
        f"{fmt_s(med('readRDS_uncompressed_s'))}); {med('neutral_mb'):.0f} MB neutral, "
        f"{med('rds_mb'):.0f} MB RDS"
    )
    return out


R_SCENARIOS = {"r_linear3": scenario_r_linear3, "r_frame1m": scenario_r_frame1m}
