"""One client operation, timed inside the process; run by each implementation's python.

Usage: python read_client.py OPERATION FLOW [RUN_ID]
  artifacts      Flow(FLOW)[RUN_ID]["body"]: every task's ``task.data.y``
  list_runs      list(Flow(FLOW).runs()), touching ``.id`` and ``.successful`` of each run
  latest         Flow(FLOW).latest_successful_run, touching its ``.id``

Prints one JSON line: the seconds the operation took after the import (``op_s``), the seconds
the import line took (``import_s``) and a result the harness checks (count, sum or run id).
The harness switches the import line to ``from metaflow import ...`` for Metaflow.

The line is formatted by hand, not with the ``json`` module: importing ``json`` (and ``re``
with it) costs several milliseconds that are the measurement's, not the client's.
"""

import sys
import time

t0 = time.perf_counter()
from headwater import Flow, namespace  # noqa: E402

t1 = time.perf_counter()


def artifacts(flow: str, run_id: str) -> dict:
    values = [task.data.y for task in Flow(flow)[run_id]["body"]]
    return {"count": len(values), "sum": sum(values)}


def list_runs(flow: str) -> dict:
    runs = [(run.id, run.successful) for run in Flow(flow).runs()]
    return {"count": len(runs), "successful": sum(ok for _, ok in runs)}


def latest(flow: str) -> dict:
    run = Flow(flow).latest_successful_run
    return {"run_id": None if run is None else run.id}


def main() -> None:
    op, flow = sys.argv[1], sys.argv[2]
    namespace(None)
    if op == "artifacts":
        result = artifacts(flow, sys.argv[3])
    elif op == "list_runs":
        result = list_runs(flow)
    elif op == "latest":
        result = latest(flow)
    else:
        raise SystemExit(f"unknown operation {op!r}")
    t2 = time.perf_counter()
    print(to_json({"import_s": t1 - t0, "op_s": t2 - t1, **result}))


def to_json(fields: dict) -> str:
    """One flat JSON object of numbers, None and plain strings (run ids)."""
    items = []
    for key, value in fields.items():
        if value is None:
            text = "null"
        elif isinstance(value, str):
            if not value.isalnum():
                raise SystemExit(f"cannot format {value!r} without the json module")
            text = f'"{value}"'
        else:
            text = repr(value)
        items.append(f'"{key}": {text}')
    return "{" + ", ".join(items) + "}"


main()
