"""Executing a run: planning, launching tasks, recording results (layer 3)."""
