"""What headwater recorded about the newest numpy_artifact run in this directory.

Run by the headwater venv's python in a kept numpy256 run directory (the harness's
environment points HEADWATER_ROOT there). Prints one JSON line:
  save_s   seconds start spent saving its artifacts, as the task recorded it
           (metadata ``artifacts_save_s``: serializing, hashing, writing, the index)
  load_s   seconds end spent loading artifacts plus saving its own (``artifacts_load_s`` +
           ``artifacts_save_s``): reading, checking, unpickling, and deciding the loaded
           array is unchanged
  create_s, sum_s   the step code's own computation, timed by the flow
"""

import json

from headwater import Flow, namespace

namespace(None)
run = Flow("NumpyArtifactFlow").latest_run
start, end = run["start"].task, run["end"].task
sm, em = start.metadata_dict, end.metadata_dict
print(
    json.dumps(
        {
            "save_s": float(sm["artifacts_save_s"]),
            "load_s": float(em["artifacts_load_s"]) + float(em["artifacts_save_s"]),
            "create_s": start.data.create_s,
            "sum_s": end.data.sum_s,
            "same_key": start.artifacts.arr.sha == end.artifacts.arr.sha,
        }
    )
)
