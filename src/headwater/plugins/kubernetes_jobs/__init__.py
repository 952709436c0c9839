"""The ``kubernetes`` executor: one Kubernetes Job per task attempt.

- :mod:`.executor` is the runtime's half (what each step's pod is, the run's settings);
- :mod:`.manifest` builds the Job (and the Secret holding the run's service token);
- :mod:`.backend` runs in the executor's driver process: it creates, watches and deletes
  the Jobs;
- :mod:`.pod_failures` says why a Job or pod failed, in one line;
- :mod:`.jobs` finds and deletes a run's Jobs (``python flow.py kubernetes list|kill``).
"""
