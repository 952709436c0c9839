"""What a scheduled task tells the scheduler that ran it: ``step ... --output-dir DIR``.

A production scheduler decides what runs next from small values a task leaves behind (Argo
reads output parameters from files, an Airflow operator pushes them as XCom). After the task
ends, the directory holds one file per value:

============== ===============================================================================
``task.json``  everything below as one JSON object, plus ``ok``, ``attempt``, the transition
               (kind, targets, num_splits) and the split stack (the frames the task is inside)
``task_id``    the task's id
``input_path`` ``RUN/STEP/TASK``: what a successor passes as ``--input-paths``
``splits``     a JSON list of the foreach split indexes this task opened (``[]`` if none): a
               scheduler maps the next step over it, never over the split values themselves
``branch``     the step a switch chose, or the first target (empty after the end step)
============== ===============================================================================
"""

from __future__ import annotations

import json
import os

from headwater.core.splits import TransitionKind, stack_to_json

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from headwater.runtime.spec import TaskResult, TaskSpec


def task_outputs(spec: TaskSpec, result: TaskResult) -> dict[str, Any]:
    """The values of ``task.json`` for a finished attempt."""
    t = result.transition
    splits: list[int] = []
    if t is not None and t.kind == TransitionKind.FOREACH:
        splits = list(range(int(t.num_splits or 0)))
    return {
        "ok": result.ok,
        "flow": spec.flow,
        "run_id": spec.run_id,
        "step": spec.step,
        "task_id": spec.task_id,
        "attempt": spec.attempt,
        "input_path": f"{spec.run_id}/{spec.step}/{spec.task_id}",
        "transition": t.to_json() if t is not None else None,
        "stack": stack_to_json(spec.stack),
        "splits": splits,
        "branch": t.targets[0] if t is not None and t.targets else "",
    }


def write_task_outputs(directory: str, spec: TaskSpec, result: TaskResult) -> None:
    """Write the files of a finished attempt into ``directory`` (made when missing)."""
    values = task_outputs(spec, result)
    os.makedirs(directory, exist_ok=True)
    files = {
        "task.json": json.dumps(values, separators=(",", ":")),
        "task_id": values["task_id"],
        "input_path": values["input_path"],
        "splits": json.dumps(values["splits"]),
        "branch": values["branch"],
    }
    for name, text in files.items():
        path = os.path.join(directory, name)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
