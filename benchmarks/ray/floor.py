"""Ray's own floor on a cluster: the cost of an empty remote function, as the Ray scenario
compares headwater's per-task cost with it. Run with the headwater venv's python:

    python floor.py ADDRESS N

prints one JSON line: the time to connect, to run N empty tasks submitted together (after a
warm-up that starts the job's workers), and the per-task figure.
"""

import json
import os
import sys
import time

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a head on 127.0.0.1 stays there

import ray  # noqa: E402


@ray.remote(max_retries=0)
def empty() -> None:
    return None


def main() -> None:
    address, n = sys.argv[1], int(sys.argv[2])
    t0 = time.perf_counter()
    ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    connect_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ray.get([empty.remote() for _ in range(20)])
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ray.get([empty.remote() for _ in range(n)])
    batch_s = time.perf_counter() - t0
    ray.shutdown()
    print(
        json.dumps(
            {
                "connect_s": connect_s,
                "first_tasks_s": warm_s,
                "tasks": n,
                "batch_s": batch_s,
                "per_task_s": batch_s / n,
            }
        )
    )


if __name__ == "__main__":
    main()
