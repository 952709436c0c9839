"""The check both copy_runs_*.py scripts end with: read the grown store back with the
implementation's own client and print what it saw.

Imported by those scripts (their directory is on sys.path when they run), with the client's
``Flow`` and ``namespace`` passed in, so one check serves headwater and Metaflow alike.
"""

import json


def check_copies(flow_class, namespace, flow, total, real, ids, newest, who):
    """Print {runs, real, latest_successful, newest, ok}; exit non-zero unless ``total`` runs
    list newest first, the newest is the latest successful run, and three copies (first,
    middle, newest) read back as successful with their end task's ``x`` equal to 2."""
    namespace(None)
    runs = list(flow_class(flow).runs())
    latest = flow_class(flow).latest_successful_run
    samples = [ids[0], ids[len(ids) // 2], newest] if ids else [newest]
    checked = {i: flow_class(flow)[i]["end"].task.data.x for i in samples}
    ok = (
        len(runs) == total
        and runs[0].id == newest
        and latest is not None
        and latest.id == newest
        and all(flow_class(flow)[i].successful for i in samples)
        and all(v == 2 for v in checked.values())
    )
    print(
        json.dumps(
            {
                "runs": len(runs),
                "real": len(real),
                "latest_successful": latest.id,
                "newest": newest,
                "ok": ok,
            }
        )
    )
    if not ok:
        raise SystemExit(f"the copied runs do not read back as real runs through {who}'s client")
