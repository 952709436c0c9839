"""Grow a headwater store to N runs of a flow by copying its newest real run.

Usage (run by headwater's python, with HEADWATER_ROOT set): python copy_runs_headwater.py FLOW N

Every copy goes through headwater's own stores (headwater.stores), as ``resume`` clones a task:
a new run (``create_run`` with the template's user and system tags), then for each of the
template's tasks ``create_task`` (same task id, parents rewritten to the new run, same foreach
index), ``start_attempt``, the datastore's ``copy_index`` (artifact keys only: the content-
addressed blobs are shared, as between real runs) and ``finish_attempt`` with the template
task's metadata; the ``_parameters`` index is copied too; last ``set_run_status``. Then
headwater's client checks the result like the Metaflow side does. Prints one JSON line.
"""

import sys

from headwater.core.ids import AttemptPath
from headwater.metadata_store.records import RunStatus, TaskStatus
from headwater.stores import open_stores


def copy_run(md, ds, flow: str, template) -> str:
    src_run = template.run_id
    run = md.create_run(flow, template.user, system_tags=template.system_tags)
    new = run.run_id
    ds.copy_index(
        AttemptPath(flow, src_run, "_parameters", "0", 0),
        AttemptPath(flow, new, "_parameters", "0", 0),
    )
    for task in md.list_tasks(flow, src_run):
        parents = [p.replace(f"{flow}/{src_run}/", f"{flow}/{new}/", 1) for p in task.parents]
        md.create_task(
            flow,
            new,
            task.step,
            parents=parents,
            foreach_index=task.foreach_index,
            task_id=task.task_id,
        )
        attempt = task.successful_attempt or 0
        md.start_attempt(flow, new, task.step, task.task_id, 0)
        ds.copy_index(
            AttemptPath(flow, src_run, task.step, task.task_id, attempt),
            AttemptPath(flow, new, task.step, task.task_id, 0),
        )
        meta = {
            m.field: m.value
            for m in md.get_task_metadata(flow, src_run, task.step, task.task_id)
            if m.attempt == attempt
        }
        md.finish_attempt(
            flow, new, task.step, task.task_id, 0, TaskStatus.SUCCEEDED, metadata=meta
        )
    md.set_run_status(flow, new, RunStatus.COMPLETED)
    return new


def main() -> None:
    flow, total = sys.argv[1], int(sys.argv[2])
    stores = open_stores()  # HEADWATER_ROOT, as the harness sets it
    md, ds = stores.metadata, stores.datastore
    real = md.list_runs(flow)
    template = max(real, key=lambda r: int(r.run_id))
    ids = [copy_run(md, ds, flow, template) for _ in range(total - len(real))]
    md.close()
    newest = ids[-1] if ids else template.run_id

    from check_copies import check_copies

    from headwater import Flow, namespace

    check_copies(Flow, namespace, flow, total, real, ids, newest, "headwater")


main()
