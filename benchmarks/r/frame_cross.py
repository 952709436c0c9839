"""The Python half of the r_frame1m scenario, with headwater's real parts.

R -> Python: Rscript writes the frame as an R step hands it over (timed in R); the task's
Python process stores it as an encoded blob (``save_encoded``: read the file, hash, write);
a Python step loads it as a pandas DataFrame (``load_value``). Python -> R: that DataFrame,
pickled as a Python step's artifact, is loaded and encoded for R as the R step's task does
(``load_value`` + neutral encode + write the file); Rscript reads it (timed in R) and checks it
is identical to the frame it started from. Prints one JSON line of seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy  # noqa: F401 - imported before timing, as a Python step using the frame has it
import pandas  # noqa: F401

from headwater.datastore.content_store import ContentStore
from headwater.datastore.local_storage import LocalStorage
from headwater.plugins.r_session import r_task_environment
from headwater.serde.neutral import encode

HERE = os.path.dirname(os.path.abspath(__file__))


def rscript(*args: str) -> dict:
    # Reading runs as an R step's task does, with the environment the task gives R.
    env = r_task_environment(dict(os.environ)) if args[0] == "read" else None
    done = subprocess.run(
        ["Rscript", os.path.join(HERE, "frame.R"), *args], capture_output=True, text=True, env=env
    )
    if done.returncode:
        sys.exit(f"Rscript frame.R {' '.join(args)} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    work = tempfile.mkdtemp(prefix="hw-frame-", dir=os.getcwd())
    to_python = os.path.join(work, "to-python")
    to_r = os.path.join(work, "to-r")
    ds = ContentStore(LocalStorage(os.path.join(work, ".headwater")))
    out = rscript("write", to_python)

    t0, c0 = time.perf_counter(), time.process_time()
    with open(to_python, "rb") as fh:
        data = fh.read()
    ref = ds.save_encoded("Bench", "df", "neutral", [data], "R.data.frame")
    out["py_store_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = ds.load_value("Bench", ref.key)
    out["py_load_s"] = time.perf_counter() - t0
    out["py_store_load_cpu_s"] = time.process_time() - c0
    assert frame.shape == (1_000_000, 10), frame.shape

    pickled = ds.save_values("Bench", {"df": frame})["df"]
    t0, c0 = time.perf_counter(), time.process_time()
    value = ds.load_value("Bench", pickled.key)
    with open(to_r, "wb") as fh:
        for piece in encode(value):
            fh.write(piece)
    out["py_encode_s"] = time.perf_counter() - t0
    out["py_encode_cpu_s"] = time.process_time() - c0
    out.update(rscript("read", to_r))

    out["r_to_python_s"] = out["r_write_s"] + out["py_store_s"] + out["py_load_s"]
    out["python_to_r_s"] = out["py_encode_s"] + out["r_read_s"]
    out["r_to_python_cpu_s"] = out["r_write_cpu_s"] + out["py_store_load_cpu_s"]
    out["python_to_r_cpu_s"] = out["py_encode_cpu_s"] + out["r_read_cpu_s"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
