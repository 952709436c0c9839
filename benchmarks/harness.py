"""Benchmark headwater against Metaflow on the same flows.

Each scenario runs one flow template from ``flows/`` under both implementations, alternating
them run by run, every run in a fresh temporary directory with the same environment. It prints
the median wall time of each, the ratio of medians (Metaflow / headwater), the target and
PASS/MISS, and writes everything, raw samples included, as JSON under ``results/``.

This script only runs commands: it imports nothing from headwater or Metaflow.
See README.md for the scenarios and the method.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench_core import (
    HERE,
    Bench,
    Impl,
    Outcome,
    RunFailed,
    Settings,
    alternate,
    fmt_s,
    median,
    progress,
)
from client_scenarios import CLIENT_QUICK, CLIENT_SCENARIOS, foreach_keep_name
from r_scenarios import R_SCENARIOS
from ray_scenario import METAFLOW_FOREACH1000, scenario_ray_foreach1000
from team_scenarios import TEAM_SCENARIOS, close_team_stores

REPO = HERE.parent
MB = 2**20


# ---- scenarios ------------------------------------------------------------------------------


def flow_vs_flow(
    b: Bench,
    name: str,
    template: str,
    args: list[str],
    reps: dict[str, int],
    target: float,
    keep: Callable[[Impl], str | None] = lambda impl: None,
) -> Outcome:
    """Time the same flow under both implementations; PASS when the ratio meets ``target``.
    ``keep(impl)`` names the kept directory of each implementation's last run, if any."""
    out = Outcome(name, f">= {target:g}x")
    out.samples = alternate(
        {
            b.hw.name: lambda: b.run_flow(b.hw, template, args, keep_as=keep(b.hw))[0],
            b.mf.name: lambda: b.run_flow(b.mf, template, args, keep_as=keep(b.mf))[0],
        },
        reps,
        name,
    )
    out.headwater_s = median(out.samples[b.hw.name])
    out.metaflow_s = median(out.samples[b.mf.name])
    out.ratio = out.metaflow_s / out.headwater_s
    out.passed = out.ratio >= target
    return out


def scenario_linear3(b: Bench, s: Settings) -> Outcome:
    return flow_vs_flow(
        b, "linear3", "linear3.py", [], {b.hw.name: s.repeat, b.mf.name: s.repeat}, 8
    )


def scenario_foreach100(b: Bench, s: Settings) -> Outcome:
    args = ["--width", "100", "--max-num-splits", "100"]
    reps = {b.hw.name: s.repeat, b.mf.name: s.repeat_slow}
    # bench-quick's client_artifacts reads the last run of each (see client_scenarios.py)
    keep = (lambda impl: foreach_keep_name(impl, 100)) if s.quick else (lambda impl: None)
    return flow_vs_flow(b, "foreach100", "foreach.py", args, reps, 20, keep)


def scenario_foreach1000(b: Bench, s: Settings) -> Outcome:
    args = ["--width", "1000", "--max-num-splits", "1000"]
    progress("  (Metaflow runs this once: 5 to 13 minutes on 2 cores)")
    reps = {b.hw.name: s.repeat, b.mf.name: 1}
    keep = lambda impl: foreach_keep_name(impl, 1000)  # noqa: E731 (for client_artifacts1000)
    out = flow_vs_flow(b, "foreach1000", "foreach.py", args, reps, 50, keep)
    out.notes.append("Metaflow: a single run, not a median")
    METAFLOW_FOREACH1000[:] = out.samples[b.mf.name]  # the Ray scenario compares with it too
    return out


# Idle time before each numpy256 arm. Each arm frees hundreds of MB when it ends; for about
# two seconds after that this VM hands the freed memory back to its host, and page-cache
# writes made meanwhile run 4-6x slower (as they do during disk writeback). Without the pause
# an arm's speed depended on which arm ran just before it (benchmarks/README.md).
NUMPY_SETTLE_S = 3.0


def scenario_numpy256(b: Bench, s: Settings) -> Outcome:
    """256 MB array artifact; also headwater's save+load time against ``cp``."""
    big = ["--megabytes", "256", "--fill", s.numpy_fill]
    tiny = ["--megabytes", "0", "--fill", s.numpy_fill]
    out = Outcome("numpy256", ">= 8x and save+load <= 2x cp")
    io: list[dict[str, Any]] = []

    def headwater_big() -> float:
        seconds = b.run_flow(b.hw, "numpy_artifact.py", big, keep_as="numpy256-headwater")[0]
        workdir = b.kept["numpy256-headwater"]
        io.append(
            json.loads(b.run_script(b.hw, workdir, [str(HERE / "client" / "numpy_io.py")])[1])
        )
        return seconds

    copy = CopyTimer(b.base, 256 * MB)
    try:
        out.samples = alternate(
            {
                b.hw.name: headwater_big,
                "cp": copy,
                b.mf.name: lambda: b.run_flow(b.mf, "numpy_artifact.py", big)[0],
                "headwater-tiny": lambda: b.run_flow(b.hw, "numpy_artifact.py", tiny)[0],
            },
            {b.hw.name: s.repeat, "cp": s.repeat, b.mf.name: s.repeat, "headwater-tiny": s.repeat},
            "numpy256",
            settle_s=NUMPY_SETTLE_S,
        )
    finally:
        copy.close()
    shutil.rmtree(b.kept.pop("numpy256-headwater"), ignore_errors=True)
    out.samples["headwater-save+load"] = [r["save_s"] + r["load_s"] for r in io]
    progress(f"  {'numpy256':<13} {'cp 256 MB':<18} median {fmt_s(median(out.samples['cp']))}")
    out.headwater_s = median(out.samples[b.hw.name])
    out.metaflow_s = median(out.samples[b.mf.name])
    out.ratio = out.metaflow_s / out.headwater_s
    cp_s = median(out.samples["cp"])
    save_load = median(out.samples["headwater-save+load"])
    outside = out.headwater_s - median(out.samples["headwater-tiny"])
    compute = median([r["create_s"] + r["sum_s"] for r in io])
    out.extra = {
        "fill": s.numpy_fill,
        "cp_s": cp_s,
        "save_s": median([r["save_s"] for r in io]),
        "load_s": median([r["load_s"] for r in io]),
        "save_load_s": save_load,
        "save_load_over_cp": save_load / cp_s,
        "outside_estimate_s": outside,
        "create_and_sum_in_run_s": compute,
        "outside_estimate_net_of_compute_s": outside - compute,
        "end_kept_the_key": all(r["same_key"] for r in io),
        "io": io,
    }
    out.passed = out.ratio >= 8 and save_load <= 2 * cp_s
    out.notes.append(
        f"array fill {s.numpy_fill}; save+load as the tasks recorded it: "
        f"{fmt_s(out.extra['save_s'])} + {fmt_s(out.extra['load_s'])} = {fmt_s(save_load)} "
        f"vs cp {fmt_s(cp_s)}: {save_load / cp_s:.1f}x cp (target <= 2x)"
    )
    out.notes.append(
        f"from outside: 256 MB run - 1-element run = {fmt_s(outside)}, of which the steps' own "
        f"array creation and sum (timed in the run) {fmt_s(compute)}; the rest, "
        f"{fmt_s(outside - compute)} = {(outside - compute) / cp_s:.1f}x cp, also holds process "
        "start-up and exit with 256 MB more memory"
    )
    return out


class CopyTimer:
    """``cp`` of a ``size``-byte file of random bytes within ``base``, one timed copy per call
    (to a new file, removed afterwards), so copies can alternate with the runs they are
    compared with and see the same state of the machine's memory."""

    def __init__(self, base: Path, size: int) -> None:
        self.src = base / "cp-source.bin"
        self.dst = base / "cp-copy.bin"
        with open(self.src, "wb") as f:
            for _ in range(size // MB):
                f.write(os.urandom(MB))

    def __call__(self) -> float:
        start = time.perf_counter()
        subprocess.run(["cp", str(self.src), str(self.dst)], check=True)
        seconds = time.perf_counter() - start
        self.dst.unlink()
        return seconds

    def close(self) -> None:
        self.src.unlink(missing_ok=True)


def scenario_import(b: Bench, s: Settings) -> Outcome:
    """``python -c "import X"`` minus ``python -c "pass"``, each the median of N runs."""
    out = Outcome("import", "headwater < 100 ms")
    arms: dict[str, Callable[[], float]] = {}
    for impl in (b.hw, b.mf):
        arms[f"{impl.name}-pass"] = lambda i=impl: b.time_command(i, ["-c", "pass"])
        arms[f"{impl.name}-import"] = lambda i=impl: b.time_command(i, ["-c", f"import {i.module}"])
        arms[f"{impl.name}-flowspec"] = lambda i=impl: b.time_command(
            i, ["-c", f"from {i.module} import FlowSpec, step, Parameter"]
        )
    out.samples = alternate(arms, dict.fromkeys(arms, s.repeat_import), "import")

    def net(impl: Impl, what: str) -> float:
        return median(out.samples[f"{impl.name}-{what}"]) - median(out.samples[f"{impl.name}-pass"])

    out.headwater_s = net(b.hw, "import")
    out.metaflow_s = net(b.mf, "import")
    out.ratio = out.metaflow_s / out.headwater_s
    out.passed = out.headwater_s < 0.1
    out.extra = {
        "headwater_from_import_FlowSpec_step_Parameter_s": net(b.hw, "flowspec"),
        "metaflow_from_import_FlowSpec_step_Parameter_s": net(b.mf, "flowspec"),
    }
    out.notes.append(
        f"'from X import FlowSpec, step, Parameter': headwater {fmt_s(net(b.hw, 'flowspec'))}, "
        f"Metaflow {fmt_s(net(b.mf, 'flowspec'))}"
    )
    return out


def scenario_foreach10000(b: Bench, s: Settings) -> Outcome:
    """headwater only: 10,000-way foreach; wall time and the run process's peak RSS."""
    out = Outcome("foreach10000", "peak RSS < 500 MB")
    args = ["--width", "10000", "--max-num-splits", "10000"]
    upper, sampled, times = [], [], []
    for i in range(s.repeat_slow):
        seconds, mem = b.run_flow(b.hw, "foreach.py", args, watch_rss=True)
        times.append(seconds)
        upper.append(mem["maxrss_upper"] / 1024)
        sampled.append(mem["vmhwm_sampled"] / 1024)
        progress(
            f"  {'foreach10000':<13} {b.hw.name:<18} #{i + 1}  {fmt_s(seconds)}"
            f"  peak RSS <= {upper[-1]:.0f} MB (sampled {sampled[-1]:.0f} MB)"
        )
    out.samples = {b.hw.name: times, "maxrss_upper_mb": upper, "vmhwm_sampled_mb": sampled}
    out.headwater_s = median(times)
    peak = max(upper)
    out.passed = peak < 500
    out.extra = {"peak_rss_upper_mb": peak, "peak_rss_sampled_mb": max(sampled)}
    out.notes.append(
        f"runtime peak RSS <= {peak:.0f} MB (wait4 ru_maxrss); VmHWM sampled {max(sampled):.0f} MB"
    )
    return out


SCENARIOS: dict[str, Callable[[Bench, Settings], Outcome]] = {
    "import": scenario_import,
    "linear3": scenario_linear3,
    "foreach100": scenario_foreach100,
    "numpy256": scenario_numpy256,
    "foreach1000": scenario_foreach1000,
    "foreach10000": scenario_foreach10000,
    "ray_foreach1000": scenario_ray_foreach1000,  # after foreach1000: reuses Metaflow's run
    # after foreach100/foreach1000, whose last runs client_artifacts reads
    **CLIENT_SCENARIOS,
    **TEAM_SCENARIOS,
    **R_SCENARIOS,  # R flows and data frames (r_scenarios.py); need Debian's R
}
QUICK = ["import", "linear3", "foreach100", "numpy256", *CLIENT_QUICK, "r_linear3"]


# ---- reporting ------------------------------------------------------------------------------


def print_table(outcomes: list[Outcome], mode: str) -> None:
    print(f"\nheadwater vs Metaflow ({mode}); ratio = Metaflow median / headwater median")
    w = max([13, *(len(o.name) for o in outcomes)])
    header = (
        f"{'scenario':<{w}} {'headwater':>10} {'metaflow':>10} {'ratio':>8}  {'target':<30} result"
    )
    print(header)
    print("-" * len(header))
    for o in outcomes:
        if o.error:
            print(f"{o.name:<{w}} ERROR: {o.error}")
            continue
        ratio = f"{o.ratio:.1f}x" if o.ratio is not None else "-"
        result = "PASS" if o.passed else "MISS"
        print(
            f"{o.name:<{w}} {fmt_s(o.headwater_s):>10} {fmt_s(o.metaflow_s):>10} {ratio:>8}  "
            f"{o.target:<30} {result}"
        )
        for note in o.notes:
            print(f"{'':<{w}}   {note}")


def machine_info(hw: Impl, mf: Impl) -> dict[str, Any]:
    def version(py: str, code: str) -> str:
        proc = subprocess.run([py, "-c", code], capture_output=True, text=True)
        return proc.stdout.strip() or proc.stderr.strip()[-200:]

    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    commit = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "platform": platform.platform(),
        "headwater_commit": commit,
        "headwater_python": version(hw.python, "import sys; print(sys.version.split()[0])"),
        "metaflow_python": version(mf.python, "import sys; print(sys.version.split()[0])"),
        "metaflow_version": version(mf.python, "import metaflow; print(metaflow.__version__)"),
        "numpy_headwater_venv": version(hw.python, "import numpy; print(numpy.__version__)"),
        "numpy_metaflow_venv": version(mf.python, "import numpy; print(numpy.__version__)"),
    }


def settings_from(args: argparse.Namespace) -> Settings:
    def env_int(name: str, default: int) -> int:
        return int(os.environ.get(name) or default)

    return Settings(
        quick=args.quick,
        repeat=env_int("BENCH_REPEAT", 3 if args.quick else 5),
        repeat_slow=env_int("BENCH_REPEAT_SLOW", 1 if args.quick else 3),
        repeat_import=env_int("BENCH_IMPORT_REPEAT", 10 if args.quick else 20),
        numpy_fill=os.environ.get("BENCH_NUMPY_FILL") or "random",
        keep=args.keep,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the short suite (bench-quick)")
    p.add_argument("--only", default="", help="comma-separated scenarios: " + ",".join(SCENARIOS))
    p.add_argument("--headwater-python", default=sys.executable)
    p.add_argument("--metaflow-python", default=str(REPO / ".venv-bench" / "bin" / "python"))
    p.add_argument("--results-dir", default=str(HERE / "results"))
    p.add_argument("--tmp", default=None, help="where the temporary run directories go")
    p.add_argument("--keep", action="store_true", help="keep the directories of failed runs")
    args = p.parse_args(argv)

    s = settings_from(args)
    names = [n for n in args.only.split(",") if n] or (QUICK if s.quick else list(SCENARIOS))
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}: choose from {', '.join(SCENARIOS)}")
    if s.numpy_fill not in ("ones", "arange", "random"):
        p.error("BENCH_NUMPY_FILL must be ones, arange or random")
    mode = "bench-quick" if s.quick else "bench"
    # abspath, not resolve: a venv's python is a symlink that must stay inside its venv.
    hw = Impl("headwater", os.path.abspath(args.headwater_python), "headwater")
    mf = Impl("metaflow", os.path.abspath(args.metaflow_python), "metaflow")
    for impl in (hw, mf):
        if not os.access(impl.python, os.X_OK):
            p.error(f"no interpreter at {impl.python} for {impl.name}: run 'make bench' to set up")
    started = dt.datetime.now().astimezone()
    base = Path(tempfile.mkdtemp(prefix="headwater-bench-", dir=args.tmp))
    bench = Bench(hw, mf, base, args.keep)
    outcomes: list[Outcome] = []
    try:
        info = machine_info(hw, mf)
        progress(f"{mode}: {', '.join(names)}; runs in {base}")
        progress("warm-up: one untimed linear3 run per implementation")
        try:
            bench.run_flow(hw, "linear3.py", [])
            bench.run_flow(mf, "linear3.py", [])
        except RunFailed as e:
            progress(f"warm-up failed, nothing measured: {e}")
            return 2
        for name in names:
            progress(f"{name}:")
            try:
                outcomes.append(SCENARIOS[name](bench, s))
            except (RunFailed, RuntimeError, subprocess.CalledProcessError) as e:
                outcomes.append(Outcome(name, "", error=str(e)))
    finally:
        close_team_stores()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print_table(outcomes, mode)

    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{started:%Y%m%d-%H%M%S}-{mode}.json"
    report = {
        "mode": mode,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((dt.datetime.now().astimezone() - started).total_seconds(), 1),
        "settings": asdict(s),
        "machine": info,
        "scenarios": [asdict(o) for o in outcomes],
    }
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults: {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
