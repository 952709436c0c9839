"""Grow a Metaflow local store to N runs of a flow by copying its newest real run.

Usage (run by the Metaflow venv's python, with METAFLOW_DATASTORE_SYSROOT_LOCAL set, from the
store's directory): python copy_runs_metaflow.py FLOW N

Copy k (1, 2, ...) of the template run gets run id ``template + k * 1000`` (Metaflow's local run
ids are start times in microseconds, so: started k ms after the template) and its directory
``.metaflow/FLOW/<id>/`` is the template's with the run id rewritten in every file and every
``ts_epoch`` moved k ms later. Artifacts are content-addressed under ``.metaflow/FLOW/data/``
and shared, as Metaflow shares them between runs. ``latest_run`` names the newest copy.
Then Metaflow's own client checks the result: N runs, the newest one is the latest successful
run, and copies' artifacts load. Prints one JSON line.
"""

import os
import re
import sys

TS = re.compile(rb'"ts_epoch": (\d+)')


def copy_run(flow_dir: str, template: str, new_id: str, shift_ms: int) -> None:
    src_root = os.path.join(flow_dir, template)
    old, new = template.encode(), new_id.encode()
    for dirpath, _dirs, files in os.walk(src_root):
        dst_dir = os.path.join(flow_dir, new_id, os.path.relpath(dirpath, src_root))
        os.makedirs(dst_dir, exist_ok=True)
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read().replace(old, new)
            if name.endswith(".json"):
                data = TS.sub(lambda m: b'"ts_epoch": %d' % (int(m.group(1)) + shift_ms), data)
            with open(os.path.join(dst_dir, name), "wb") as f:
                f.write(data)


def main() -> None:
    flow, total = sys.argv[1], int(sys.argv[2])
    flow_dir = os.path.join(os.environ["METAFLOW_DATASTORE_SYSROOT_LOCAL"], ".metaflow", flow)
    real = sorted((d for d in os.listdir(flow_dir) if d.isdigit()), key=int)
    template = real[-1]
    ids = [str(int(template) + k * 1000) for k in range(1, total - len(real) + 1)]
    for k, new_id in enumerate(ids, start=1):
        copy_run(flow_dir, template, new_id, k)
    newest = ids[-1] if ids else template
    with open(os.path.join(flow_dir, "latest_run"), "w") as f:
        f.write(newest)

    from check_copies import check_copies
    from metaflow import Flow, namespace

    check_copies(Flow, namespace, flow, total, real, ids, newest, "Metaflow")


main()
