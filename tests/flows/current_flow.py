"""Records what `current` says in each step: a retried step, and an end that fails on demand
(CURRENT_FLOW_FAIL=1) so a resume can show origin_run_id."""

import os

from headwater import FlowSpec, Parameter, current, retry, step


def snapshot():
    tempdir = current.tempdir
    with open(os.path.join(tempdir, "scratch.txt"), "w") as fh:
        fh.write("usable")
    return {
        "flow_name": current.flow_name,
        "run_id": current.run_id,
        "step_name": current.step_name,
        "task_id": current.task_id,
        "retry_count": current.retry_count,
        "origin_run_id": current.origin_run_id,
        "pathspec": current.pathspec,
        "namespace": current.namespace,
        "username": current.username,
        "tags": sorted(current.tags),
        "parameter_names": list(current.parameter_names),
        "is_running_flow": current.is_running_flow,
        "graph_steps": sorted(current.graph["steps"]),
        "tempdir": tempdir,
        "tempdir_is_dir": os.path.isdir(tempdir),
        "run": (type(current.run).__name__, current.run.pathspec, sorted(current.run.tags)),
        "task": (type(current.task).__name__, current.task.pathspec),
    }


class CurrentFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)
    beta = Parameter("beta", default="b")

    @step
    def start(self):
        self.seen = snapshot()
        self.next(self.retried)

    @retry(times=1, minutes_between_retries=0)
    @step
    def retried(self):
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails")
        self.seen = snapshot()
        self.next(self.end)

    @step
    def end(self):
        if os.environ.get("CURRENT_FLOW_FAIL"):
            raise RuntimeError("asked to fail")
        self.seen = snapshot()


if __name__ == "__main__":
    CurrentFlow()
