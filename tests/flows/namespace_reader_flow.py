"""Reads another flow's runs through the client from inside a task, to show which namespace
the task's client calls use (``run --namespace``) and what ``current`` says about it.

start: current_namespace, client_namespace, visible_runs (ids of TARGET's runs the task can
see, newest first), mismatch (the NamespaceMismatch text when Flow(TARGET) is not visible),
task_tags (current.tags: the run's user tags).
"""

from headwater import Flow, FlowSpec, MetaflowNamespaceMismatch, Parameter, current, step
from headwater import get_namespace as client_namespace


class NamespaceReaderFlow(FlowSpec):
    target = Parameter("target", default="LinearFlow")

    @step
    def start(self):
        self.current_namespace = current.namespace
        self.client_namespace = client_namespace()
        self.task_tags = sorted(current.tags)
        try:
            self.visible_runs = [run.id for run in Flow(self.target)]
            self.mismatch = None
        except MetaflowNamespaceMismatch as ex:
            self.visible_runs = []
            self.mismatch = str(ex)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NamespaceReaderFlow()
