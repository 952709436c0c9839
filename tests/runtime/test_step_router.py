"""Several executors in one run: a step goes where its decorators say."""

from __future__ import annotations

from headwater import Run, metadata, namespace


def test_steps_go_to_the_executor_their_decorators_ask_for(run_flow, hw_root):
    proc = run_flow("routed_flow.py", "run")
    assert proc.returncode == 0, proc.stderr
    metadata(f"local@{hw_root}")
    namespace(None)
    assert Run("RoutedFlow/1").data.how == {
        "start": "fork",
        "elsewhere": "subprocess",
        "end": "fork",
    }
