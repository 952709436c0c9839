"""Whole-process client reads over the metadata service on loopback: a fresh Python process
that lists 1000 runs, and one that finds the latest successful run among them (targets: under
100 ms and 50 ms, interpreter start included).

    .venv/bin/python benchmarks/service_client_reads.py [--runs 1000] [--repeat 10]
    .venv/bin/python benchmarks/service_client_reads.py --url URL --token TOKEN

Without ``--url`` it starts its own PostgreSQL and ``headwater service`` (as service_load.py
does) and fills them with the runs. Prints the median wall time of each scenario, of
``python -c pass`` for reference, and the modules the lookup imported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from service_load import _own_service

FLOW = "ReadFlow"

SCENARIOS = {
    "list_runs": "len(store.list_runs({flow!r}))",
    "latest_successful_run": "store.latest_successful_run({flow!r}).run_id",
}

TEMPLATE = (
    "from headwater.metadata_store.service_client import ServiceMetadata\n"
    "store = ServiceMetadata({url!r})\n"
    "result = {expression}\n"
)


def _fill(url: str, token: str, runs: int) -> None:
    from headwater.metadata_store.service_client import ServiceMetadata

    store = ServiceMetadata(url, token=token)
    if len(store.list_runs(FLOW)) >= runs:
        return
    for n in range(runs):
        run = store.create_run(FLOW, "reader", tags=["bench", f"n{n % 10}"])
        store.set_run_status(FLOW, run.run_id, "completed" if n % 3 == 0 else "failed")
    store.close()


def _time(argv: list[str], env: dict, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url")
    parser.add_argument("--token", default=os.environ.get("HEADWATER_SERVICE_TOKEN"))
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    stop = None
    if args.url:
        url, token = args.url, args.token
    else:
        url, token, stop = _own_service()
    try:
        _fill(url, token, args.runs)
        env = {**os.environ, "HEADWATER_SERVICE_TOKEN": token}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: imports from cached bytecode
        base = _time([sys.executable, "-c", "pass"], env, args.repeat)
        print(f"python -c pass: {base * 1000:.1f} ms (median of {args.repeat})")
        for name, expression in SCENARIOS.items():
            code = TEMPLATE.format(url=url, expression=expression.format(flow=FLOW))
            _time([sys.executable, "-c", code], env, 1)  # warm-up: writes the bytecode caches
            wall = _time([sys.executable, "-c", code], env, args.repeat)
            print(f"{name} over {args.runs} runs: {wall * 1000:.1f} ms whole process")
        code = TEMPLATE.format(
            url=url, expression=SCENARIOS["latest_successful_run"].format(flow=FLOW)
        )
        code += (
            "import sys\nprint(' '.join(sorted(m for m in sys.modules if not m.startswith('_'))))\n"
        )
        shown = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
        heavy = {"json", "re", "socket", "http", "enum", "typing", "email", "ssl", "psycopg"}
        print("heavy modules loaded by a lookup:", sorted(heavy & set(shown.split())) or "none")
    finally:
        if stop is not None:
            stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
