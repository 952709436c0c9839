"""A bounded load test of the metadata service on loopback: task writers and readers, each its
own process with its own client, for a fixed time; prints p50/p99 latency per call kind and
checks that no record was lost.

    .venv/bin/python benchmarks/service_load.py                  # 50 writers, 10 readers, 60 s
    .venv/bin/python benchmarks/service_load.py --seconds 10 --json
    .venv/bin/python benchmarks/service_load.py --url http://127.0.0.1:8325 --token hw_...

Without ``--url`` it starts its own PostgreSQL (Debian's, in a temp dir) and ``headwater
service`` on free loopback ports, and stops them at the end. Each writer owns one run and
registers tasks the way a runtime does: create_task (an explicit id), start_attempt,
finish_attempt with metadata; every call is timed. Each reader loops over list_runs,
latest_successful_run, get_run, get_task and get_task_metadata. At the end every task a writer
reported is read back: it must exist once, succeeded, with its metadata entry once. Exits 1 on
any error or lost record.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLOW = "LoadFlow"


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _writer(url: str, token: str, index: int, deadline: float, start, queue) -> None:
    from headwater.metadata_store.service_client import ServiceMetadata

    store = ServiceMetadata(url, token=token)
    run_id = f"w{index}"
    times: list[float] = []
    errors: list[str] = []
    done = 0
    start.wait()
    while time.time() < deadline:
        task_id = str(done + 1)
        try:
            t0 = time.perf_counter()
            store.create_task(FLOW, run_id, "body", task_id=task_id, foreach_index=done)
            t1 = time.perf_counter()
            store.start_attempt(FLOW, run_id, "body", task_id, 0)
            t2 = time.perf_counter()
            store.finish_attempt(
                FLOW, run_id, "body", task_id, 0, "succeeded", metadata={"writer": str(index)}
            )
            t3 = time.perf_counter()
        except Exception as exc:  # counted and reported, never hidden
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        times += [t1 - t0, t2 - t1, t3 - t2]
        done += 1
    store.close()
    queue.put(("writer", index, done, times, errors))


def _reader(url: str, token: str, index: int, writers: int, deadline: float, start, queue) -> None:
    from headwater.metadata_store.service_client import ServiceMetadata

    store = ServiceMetadata(url, token=token)
    times: list[float] = []
    errors: list[str] = []
    n = 0
    start.wait()
    while time.time() < deadline:
        run_id = f"w{(index + n) % writers}"
        kind = n % 5
        n += 1
        try:
            t0 = time.perf_counter()
            if kind == 0:
                store.list_runs(FLOW, limit=20)
            elif kind == 1:
                store.latest_successful_run(FLOW)
            elif kind == 2:
                store.get_run(FLOW, run_id)
            elif kind == 3:
                store.get_task(FLOW, run_id, "body", "1")
            else:
                store.get_task_metadata(FLOW, run_id, "body", "1")
            times.append(time.perf_counter() - t0)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    store.close()
    queue.put(("reader", index, n, times, errors))


def run_load(url: str, token: str, seconds: float, writers: int, readers: int) -> dict:
    from headwater.metadata_store.service_client import ServiceMetadata

    setup = ServiceMetadata(url, token=token)
    for w in range(writers):
        setup.create_run(FLOW, "load", run_id=f"w{w}")
    setup.set_run_status(FLOW, "w0", "completed")
    ctx = multiprocessing.get_context("fork")
    start, queue = ctx.Event(), ctx.Queue()
    deadline = time.time() + seconds + 1.0  # the processes start within the first second
    procs = [
        ctx.Process(target=_writer, args=(url, token, w, deadline, start, queue))
        for w in range(writers)
    ] + [
        ctx.Process(target=_reader, args=(url, token, r, writers, deadline, start, queue))
        for r in range(readers)
    ]
    for p in procs:
        p.start()
    time.sleep(1.0)
    start.set()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(30)
    write_times = [t for kind, *_, times, _e in results if kind == "writer" for t in times]
    read_times = [t for kind, *_, times, _e in results if kind == "reader" for t in times]
    errors = [e for *_, errs in results for e in errs]
    written = {index: done for kind, index, done, _t, _e in results if kind == "writer"}

    # every task a writer reported: there once, succeeded, its metadata entry once
    lost = 0
    for w, done in written.items():
        tasks = setup.list_tasks(FLOW, f"w{w}")
        ok = [t for t in tasks if t.status == "succeeded" and t.attempts == 1]
        lost += max(0, done - len(ok))
        if len(tasks) != done:
            errors.append(f"run w{w}: {len(tasks)} tasks stored, {done} reported")
    for w in list(written)[:10]:
        for task_id in ("1", str(max(1, written[w] // 2)), str(max(1, written[w]))):
            entries = setup.get_task_metadata(FLOW, f"w{w}", "body", task_id)
            if written[w] and [(e.field, e.value) for e in entries] != [("writer", str(w))]:
                errors.append(f"task w{w}/{task_id}: metadata {entries}")
    setup.close()
    return {
        "seconds": seconds,
        "writers": writers,
        "readers": readers,
        "tasks_written": sum(written.values()),
        "write_calls": len(write_times),
        "read_calls": len(read_times),
        "write_p50_ms": _percentile(write_times, 0.5) * 1000,
        "write_p99_ms": _percentile(write_times, 0.99) * 1000,
        "read_p50_ms": _percentile(read_times, 0.5) * 1000,
        "read_p99_ms": _percentile(read_times, 0.99) * 1000,
        "calls_per_s": (len(write_times) + len(read_times)) / seconds,
        "errors": len(errors),
        "error_samples": errors[:5],
        "lost": lost,
    }


def _own_service(*extra: str):
    """Start a throwaway PostgreSQL and service; returns (url, token, stop)."""
    sys.path.insert(0, str(REPO / "tests"))
    import tempfile

    from fixtures.postgres import PostgresCluster, find_bin_dir
    from fixtures.service import ServiceProcess, create_token

    bin_dir = find_bin_dir()
    if bin_dir is None:
        sys.exit("PostgreSQL is not installed: apt-get install postgresql, or pass --url/--token")
    cluster = PostgresCluster(bin_dir).init().start()
    cluster.wait_ready()
    dsn = cluster.create_database("load")
    log = Path(tempfile.mkdtemp(prefix="hw-load-")) / "service.log"
    service = ServiceProcess(dsn, log, env={}).start("--log-level", "warning", *extra)
    token = create_token(dsn, "load")

    def stop():
        service.stop()
        cluster.remove()

    return service.url, token, stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running service (default: start one)")
    parser.add_argument("--token", default=os.environ.get("HEADWATER_SERVICE_TOKEN"))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument(
        "--service-workers", type=int, default=1, help="--workers of the service it starts"
    )
    args = parser.parse_args(argv)
    stop = None
    if args.url:
        if not args.token:
            parser.error("--url needs --token (or HEADWATER_SERVICE_TOKEN)")
        url, token = args.url, args.token
    else:
        url, token, stop = _own_service("--workers", str(args.service_workers))
    try:
        figures = run_load(url, token, args.seconds, args.writers, args.readers)
    finally:
        if stop is not None:
            stop()
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{figures['writers']} writers, {figures['readers']} readers, {args.seconds:g} s: "
            f"{figures['tasks_written']} tasks, {figures['calls_per_s']:.0f} calls/s"
        )
        print(
            f"  writes: {figures['write_calls']} calls, p50 {figures['write_p50_ms']:.1f} ms, "
            f"p99 {figures['write_p99_ms']:.1f} ms"
        )
        print(
            f"  reads:  {figures['read_calls']} calls, p50 {figures['read_p50_ms']:.1f} ms, "
            f"p99 {figures['read_p99_ms']:.1f} ms"
        )
        print(f"  errors: {figures['errors']}, lost records: {figures['lost']}")
        for sample in figures["error_samples"]:
            print(f"    {sample}")
    return 0 if figures["errors"] == 0 and figures["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
