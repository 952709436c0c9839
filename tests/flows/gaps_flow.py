"""What Metaflow's own test suite relies on beyond the basics: a flow object iterable over its
steps, _graph/_current_step/_foreach_stack, `del self.x`, config_expr attribute chains,
ctx.configs in callable defaults, mutable current.tags, merge_artifacts' exception classes,
and @timeout stopping a step inside it."""

import time

from headwater import Config, FlowSpec, Parameter, catch, config_expr, current, project, step
from headwater import timeout as timeout_deco
from headwater.exceptions import MissingInMergeArtifactsError, UnhandledInMergeArtifactsError


def doubled(ctx):
    return ctx.configs.settings.base * 2


@project(name=config_expr("settings").project.name)
class GapsFlow(FlowSpec):
    settings = Config("settings", default_value={"base": 21, "project": {"name": "gaps"}})
    from_config = Parameter("from_config", default=config_expr("settings")["base"])
    from_ctx = Parameter("from_ctx", default=doubled)

    @step
    def start(self):
        self.steps_seen = [s.name for s in self]
        self.step_types = {s.name: self._graph[s.name].type for s in self}
        self.current_step = self._current_step
        self.tags = current.tags
        self.tags.add("added in a step")  # a set of its own: the run's tags do not change
        self.dropped = "inherited, then deleted"
        self.items = ["a", "b"]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        frames = self._foreach_stack
        self.frames = [(f.step, f.var, f.num_splits, f.index, f.value) for f in frames]
        del self.dropped
        self.branch_value = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.dropped_seen = ["dropped" in i for i in inputs]
        try:
            self.merge_artifacts(inputs, include=["nope"])
        except MissingInMergeArtifactsError as ex:
            self.missing = ex.names
        try:
            self.merge_artifacts(inputs)
        except UnhandledInMergeArtifactsError as ex:
            self.unhandled = ex.names
        self.merge_artifacts(inputs, exclude=["frames", "branch_value"])
        self.next(self.slow)

    @catch(var="timed_out")
    @timeout_deco(seconds=1)
    @step
    def slow(self):
        self.before_timeout = True
        time.sleep(30)
        self.next(self.end)

    @step
    def end(self):
        self.project = current.project_name


if __name__ == "__main__":
    GapsFlow()
