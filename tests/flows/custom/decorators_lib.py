"""Custom step decorators and mutators used by the test flows of this folder."""

from headwater import FlowMutator, StepMutator, UserStepDecorator, user_step_decorator


@user_step_decorator
def trace(step_name, flow, inputs=None, attributes=None):
    """Records artifacts before and after the step: the order of wrapping shows in them."""
    label = (attributes or {}).get("label", "trace")
    flow.trace_log = [*getattr(flow, "trace_log", []), f"{label}:before:{step_name}"]
    yield
    flow.trace_log = [*flow.trace_log, f"{label}:after:{step_name}"]


@user_step_decorator
def skip(step_name, flow, inputs=None):
    """Skips the step; the task still goes on as the step's own self.next would."""
    flow.skipped = step_name
    yield {}


@user_step_decorator
def swallow(step_name, flow, inputs=None):
    """Catches a failure of the step: the task succeeds and goes on."""
    try:
        yield
    except ValueError as ex:
        flow.swallowed = str(ex)


def _replacement(flow):
    flow.replaced = True
    return True  # go on with the step's usual self.next


@user_step_decorator
def replace(step_name, flow, inputs=None):
    """Runs another function instead of the step."""
    yield _replacement


class Stamp(UserStepDecorator):
    """A class-based decorator: sets an artifact named by its argument after the step."""

    def init(self, name="stamp"):
        self.artifact = name

    def post_step(self, step_name, flow, exception=None):
        if exception is None:
            setattr(flow, self.artifact, f"stamped {step_name}")
        return exception, None


class add_trace(StepMutator):  # noqa: N801 - used as a decorator
    """Adds @trace with a label to its step, and @retry from a config value."""

    def init(self, label):
        self.label = label

    def mutate(self, mutable_step):
        mutable_step.add_decorator(trace, deco_kwargs={"label": self.label})
        retries = mutable_step.flow.settings.retries
        mutable_step.add_decorator("retry", deco_kwargs={"times": retries})


class tidy_flow(FlowMutator):  # noqa: N801 - used as a decorator
    """Adds a parameter, @environment on every step and removes the step's @catch."""

    def init(self, greeting="hello"):
        self.greeting = greeting

    def pre_mutate(self, mutable_flow):
        from headwater import Parameter

        mutable_flow.add_parameter("added", Parameter("added", default=self.greeting))
        self.seen_configs = dict(mutable_flow.configs)

    def mutate(self, mutable_flow):
        for name, step in mutable_flow.steps:
            step.add_decorator(
                "environment", deco_kwargs={"vars": {"TIDY_STEP": name}}, duplicates=step.OVERRIDE
            )
            step.remove_decorator("catch")
