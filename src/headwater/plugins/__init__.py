"""Optional parts: decorators, executors, deployers (layer 4)."""
