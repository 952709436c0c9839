"""Client-speed scenarios: reading a run's artifacts, listing runs, finding the latest
successful run, through each implementation's client, in a fresh Python process each time.

The stores are built once per harness invocation (not timed) and kept under the harness's
temporary directory until it ends:

- ``client_artifacts``: a real N-way foreach run of ``flows/foreach.py``. The foreach1000 (or,
  in bench-quick, foreach100) scenario keeps its last successful run of each implementation
  for this; when that scenario did not run, one run is made here.
- ``client_list_runs`` / ``client_latest_successful``: a flow with N runs. A few real runs of
  ``flows/linear3.py``, then copies of the newest one made by ``client/copy_runs_*.py`` (see
  those files: directory copy with ids rewritten for Metaflow, headwater's storage API for
  headwater), each checked through the implementation's own client.

Each repetition runs ``client/read_client.py`` (its import line switched per implementation) in
the store's directory; the harness times the whole process, and the script reports the time of
the client operation after its import line. PASS/MISS uses the whole process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

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
    switch_import,
)

CLIENT = HERE / "client"
REAL_RUNS = 3  # real runs of linear3 before the copies
TARGET = 10.0


def client_size(s: Settings) -> int:
    return 100 if s.quick else 1000


def foreach_keep_name(impl: Impl, width: int) -> str:
    """The name under which the foreach scenarios keep their last run for client_artifacts."""
    return f"{impl.name}-foreach{width}"


def flow_dir(impl: Impl, workdir: Path, flow: str) -> Path:
    root = ".metaflow" if impl.module == "metaflow" else ".headwater"
    return workdir / root / flow


def only_run_id(impl: Impl, workdir: Path, flow: str) -> str:
    ids = [p.name for p in flow_dir(impl, workdir, flow).iterdir() if p.name.isdigit()]
    if len(ids) != 1:
        raise RunFailed(f"expected one {flow} run in {workdir} for {impl.name}, found {len(ids)}")
    return ids[0]


def foreach_store(b: Bench, impl: Impl, width: int) -> tuple[Path, str]:
    """The directory and run id of a real ``width``-way foreach run of ``impl``."""
    name = foreach_keep_name(impl, width)
    if name not in b.kept:
        progress(f"  building: one {width}-way foreach run of {impl.name} (not timed)")
        args = ["--width", str(width), "--max-num-splits", str(width)]
        seconds, _ = b.run_flow(impl, "foreach.py", args, keep_as=name)
        progress(f"  built in {fmt_s(seconds)}")
    workdir = b.kept[name]
    return workdir, only_run_id(impl, workdir, "ForeachFlow")


def runs_store(b: Bench, impl: Impl, total: int) -> tuple[Path, str]:
    """The directory of a store with ``total`` runs of Linear3Flow, and its newest run id."""
    name = f"{impl.name}-runs{total}"
    if name not in b.kept:
        progress(f"  building: {REAL_RUNS} real linear3 runs of {impl.name}, copied to {total}")
        workdir = b.new_dir(name)
        for _ in range(REAL_RUNS):
            b.run_flow(impl, "linear3.py", [], workdir=workdir)
        script = str(CLIENT / f"copy_runs_{impl.module}.py")
        seconds, out = b.run_script(impl, workdir, [script, "Linear3Flow", str(total)])
        report = json.loads(out.strip().splitlines()[-1])
        progress(f"  copied in {fmt_s(seconds)}; {impl.name}'s client says: {report}")
        (workdir / "newest_run").write_text(report["newest"])
        b.keep_dir(name, workdir)
    workdir = b.kept[name]
    return workdir, (workdir / "newest_run").read_text()


def read_with_client(
    b: Bench, impl: Impl, workdir: Path, argv: list[str], check: Callable[[dict], bool]
) -> tuple[float, float]:
    """Run read_client.py once; return (whole-process seconds, client-operation seconds)."""
    script = workdir / "read_client.py"
    if not script.exists():
        script.write_text(switch_import((CLIENT / "read_client.py").read_text(), impl.module))
    seconds, out = b.run_script(impl, workdir, ["read_client.py", *argv])
    result = json.loads(out.strip().splitlines()[-1])
    if not check(result):
        raise RunFailed(f"{impl.name} read_client.py {' '.join(argv)} returned {result}")
    return seconds, result["op_s"]


def client_vs_client(
    b: Bench,
    s: Settings,
    name: str,
    stores: dict[str, tuple[Path, list[str], Callable[[dict], bool]]],
) -> Outcome:
    """Alternate read_client.py runs of both implementations; ratio of whole-process medians."""
    out = Outcome(name, f">= {TARGET:g}x")
    ops: dict[str, list[float]] = {b.hw.name: [], b.mf.name: []}

    def arm(impl: Impl) -> Callable[[], float]:
        workdir, argv, check = stores[impl.name]

        def once() -> float:
            seconds, op = read_with_client(b, impl, workdir, argv, check)
            ops[impl.name].append(op)
            return seconds

        return once

    reps = {b.hw.name: s.repeat, b.mf.name: s.repeat}
    out.samples = alternate({b.hw.name: arm(b.hw), b.mf.name: arm(b.mf)}, reps, name)
    out.samples.update({f"{k}-client-op": v for k, v in ops.items()})
    out.headwater_s = median(out.samples[b.hw.name])
    out.metaflow_s = median(out.samples[b.mf.name])
    out.ratio = out.metaflow_s / out.headwater_s
    out.passed = out.ratio >= TARGET
    hw_op, mf_op = median(ops[b.hw.name]), median(ops[b.mf.name])
    out.extra = {"headwater_client_op_s": hw_op, "metaflow_client_op_s": mf_op}
    out.notes.append(
        f"whole process (interpreter, import, operation); the operation alone, after the import: "
        f"headwater {fmt_s(hw_op)}, Metaflow {fmt_s(mf_op)}: {mf_op / hw_op:.1f}x"
    )
    if s.quick:
        out.notes.append("bench-quick: 100 instead of 1000")
    return out


def scenario_client_artifacts(b: Bench, s: Settings) -> Outcome:
    """``task.data.y`` of every task of the body step of one real N-way foreach run."""
    n = client_size(s)
    stores = {}
    for impl in (b.hw, b.mf):
        workdir, run_id = foreach_store(b, impl, n)
        stores[impl.name] = (
            workdir,
            ["artifacts", "ForeachFlow", run_id],
            lambda r, n=n: r["count"] == n and r["sum"] == n * (n - 1),
        )
    return client_vs_client(b, s, f"client_artifacts{n}", stores)


def scenario_client_list_runs(b: Bench, s: Settings) -> Outcome:
    """``list(Flow(name).runs())`` of N runs, touching ``.id`` and ``.successful`` of each."""
    n = client_size(s)
    stores = {}
    for impl in (b.hw, b.mf):
        workdir, _ = runs_store(b, impl, n)
        check = lambda r, n=n: r["count"] == n and r["successful"] == n  # noqa: E731
        stores[impl.name] = (workdir, ["list_runs", "Linear3Flow"], check)
    return client_vs_client(b, s, f"client_list_runs{n}", stores)


def scenario_client_latest_successful(b: Bench, s: Settings) -> Outcome:
    """``Flow(name).latest_successful_run`` among N runs (all successful: the newest)."""
    n = client_size(s)
    stores = {}
    for impl in (b.hw, b.mf):
        workdir, newest = runs_store(b, impl, n)
        check = lambda r, want=newest: r["run_id"] == want  # noqa: E731
        stores[impl.name] = (workdir, ["latest", "Linear3Flow"], check)
    return client_vs_client(b, s, f"client_latest_successful{n}", stores)


CLIENT_SCENARIOS: dict[str, Callable[[Bench, Settings], Outcome]] = {
    "client_artifacts1000": scenario_client_artifacts,
    "client_list_runs1000": scenario_client_list_runs,
    "client_latest_successful1000": scenario_client_latest_successful,
}
CLIENT_QUICK = list(CLIENT_SCENARIOS)
