"""A flow that starts when ProductionFlow finishes, or when the event data_ready arrives."""

from headwater import FlowSpec, Parameter, step, trigger, trigger_on_finish


@trigger(events=["data_ready", {"name": "table_updated", "parameters": {"table": "name"}}])
@trigger_on_finish(flow="ProductionFlow")
class TriggeredFlow(FlowSpec):
    table = Parameter("table", default="none")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TriggeredFlow()
