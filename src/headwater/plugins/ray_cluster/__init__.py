"""The ``ray`` executor: tasks on a Ray cluster.

- :mod:`.executor` is the runtime's half (what each step asks for);
- :mod:`.backend` runs in the executor's driver process (headwater.runtime.remote_driver):
  it connects to the cluster and submits each task as a Ray task;
- :mod:`.worker` runs in Ray's worker processes: it imports the run's flow from its code
  package once per worker and runs each task as a fork of the worker, supervised.
"""
