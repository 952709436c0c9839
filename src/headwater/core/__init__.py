"""Authoring: FlowSpec, steps, graph, parameters, ids, current (layer 0, no I/O)."""
