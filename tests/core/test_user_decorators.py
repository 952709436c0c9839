"""Custom step decorators and mutators (Metaflow 2.19's API): what a flow using them does when
it runs, read back through the client, plus the rules checked when the flow is read."""

from __future__ import annotations

import re

import pytest

from headwater import (
    FlowMutator,
    FlowSpec,
    MutableFlow,
    MutableStep,
    StepMutator,
    UserStepDecorator,
    namespace,
    retry,
    step,
    user_step_decorator,
)
from headwater.client import Flow
from headwater.core.mutable import apply_mutators, restore_written
from headwater.exceptions import InvalidFlow


def _run(run_flow, flow_file, *args):
    proc = run_flow(f"custom/{flow_file}", *args)
    assert proc.returncode == 0, proc.stderr
    run_id = re.search(r"Run (\d+) of", proc.stderr).group(1)
    return proc, run_id


def test_user_step_decorators_wrap_skip_replace_and_catch(run_flow, client):
    _, run_id = _run(run_flow, "custom_decorators_flow.py", "run")
    namespace(None)
    run = Flow("CustomDecoratorsFlow")[run_id]
    assert run.successful
    # Outer decorators run first before the step and last after it.
    assert run["start"].task.data.trace_log == [
        "outer:before:start",
        "inner:before:start",
        "step:start",
        "inner:after:start",
        "outer:after:start",
    ]
    # `yield {}` skipped each foreach task; the task still went on to the join.
    assert sorted(t.data.skipped for t in run["each"]) == ["each", "each"]
    assert run["join"].task.data.skipped_in == ["each", "each"]
    # A caught exception lets the task succeed and take the step's usual self.next.
    failing = run["failing"].task
    assert failing.successful and failing.data.swallowed == "swallowed by the decorator"
    # `yield func` ran func instead of the step; a class decorator added an artifact after.
    replaced = run["replaced_step"].task.data
    assert replaced.replaced is True and replaced.stamped == "stamped replaced_step"
    assert run["end"].task.data.stamp == "stamped end"


def test_with_adds_a_custom_decorator_to_every_step(run_flow, client):
    _, run_id = _run(
        run_flow, "custom_decorators_flow.py", "--with", "decorators_lib.trace:label=w", "run"
    )
    namespace(None)
    run = Flow("CustomDecoratorsFlow")[run_id]
    # A step that has @trace already keeps its own (as Metaflow does with --with).
    assert not [e for e in run["start"].task.data.trace_log if e.startswith("w:")]
    # Others get it, outside their own decorators (it wraps even the skipping @skip).
    for task in run["each"]:
        assert task.data.trace_log[-2:] == ["w:before:each", "w:after:each"]


def test_mutators_add_parameters_and_decorators_from_configs(run_flow, client):
    _, run_id = _run(run_flow, "mutators_flow.py", "run", "--added", "given")
    namespace(None)
    run = Flow("MutatorsFlow")[run_id]
    assert run.successful
    # The flow mutator added the parameter (given on the command line) and @environment.
    assert run["end"].task.data.greeting == "given"
    assert run["start"].task.data.env_step == "start"
    # It removed @catch: start has no catch variable.
    assert "err" not in run["start"].task
    # The step mutator added @retry(times=settings.retries) and @trace.
    flaky = run["flaky"].task
    assert flaky.data.attempt == 1
    assert flaky.data.trace_log == ["mutated:before:flaky", "mutated:after:flaky"]


def test_a_mutator_added_parameter_takes_its_default(run_flow, client):
    _, run_id = _run(run_flow, "mutators_flow.py", "run")
    namespace(None)
    assert Flow("MutatorsFlow")[run_id]["end"].task.data.greeting == "hi"


# --- reading the flow --------------------------------------------------------------------------


@user_step_decorator
def noted(step_name, flow, inputs=None, attributes=None):
    yield


class OnlyKeywords(UserStepDecorator):
    pass


class add_retry(StepMutator):  # noqa: N801
    def mutate(self, mutable_step):
        mutable_step.add_decorator(retry, deco_kwargs={"times": 2})
        mutable_step.add_decorator(noted, deco_kwargs={"a": 1})


class lint(FlowMutator):  # noqa: N801
    def init(self, *args, **kwargs):
        self.given = (args, kwargs)

    def pre_mutate(self, mutable_flow):
        assert isinstance(mutable_flow, MutableFlow)
        self.steps = sorted(name for name, _ in mutable_flow.steps)
        self.start_is = type(mutable_flow.start)


@lint(1, x=2)
class ReadFlow(FlowSpec):
    @add_retry
    @noted(a=0)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


def test_mutators_change_the_class_and_applying_again_starts_from_the_code():
    for _ in range(2):
        restore_written(ReadFlow)
        apply_mutators(ReadFlow, {}, None)
        start = ReadFlow.start
        assert [d.name for d in start.decorators] == ["retry"]
        # @noted is written once; the mutator's copy is ignored (duplicates=IGNORE).
        assert [d.get_args_kwargs()[1] for d in start.wrappers] == [{"a": 0}]
    (mutator,) = ReadFlow._hw_flow_mutators
    assert mutator.given == ((1,), {"x": 2})
    assert mutator.steps == ["end", "start"] and mutator.start_is is MutableStep
    restore_written(ReadFlow)
    assert ReadFlow.start.decorators == []


def test_user_step_decorators_take_keyword_arguments_only():
    with pytest.raises(InvalidFlow, match="keyword arguments only"):
        OnlyKeywords(1)
    with pytest.raises(InvalidFlow, match="generator function"):
        user_step_decorator(lambda step_name, flow, inputs: None)


def test_mutable_step_specs_and_removal():
    class SpecFlow(FlowSpec):
        @retry(times=1)
        @noted(a=3)
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    restore_written(SpecFlow)
    apply_mutators(SpecFlow, {}, None)
    view = MutableStep(SpecFlow, "start", pre_mutate=True, static=True)
    specs = {name: kwargs for name, _, _, kwargs in view.decorator_specs}
    assert specs["retry"]["times"] == 1 and specs["noted"] == {"a": 3}
    assert view.has_decorator("noted") and view.has_decorator(f"{__name__}.noted")
    with pytest.raises(InvalidFlow, match="already has @retry"):
        view.add_decorator("retry:times=4", duplicates=MutableStep.ERROR)
    view.add_decorator("retry:times=4", duplicates=MutableStep.OVERRIDE)
    assert [d.attributes["times"] for d in SpecFlow.start.decorators] == [4]
    assert view.remove_decorator("noted") and not view.has_decorator("noted")
    flow_view = MutableFlow(SpecFlow, pre_mutate=False, static=True)
    with pytest.raises(InvalidFlow, match="only allowed in a mutator's pre_mutate"):
        flow_view.add_decorator("project:name=x")
    restore_written(SpecFlow)
