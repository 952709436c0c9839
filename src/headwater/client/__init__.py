"""Reading results back: Metaflow, Flow, Run, Step, Task, DataArtifact (layer 3)."""
