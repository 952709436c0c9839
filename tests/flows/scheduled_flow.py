"""A flow on a schedule, in a project: deployed, it runs at 02:30 on Mondays, Paris time."""

from headwater import FlowSpec, project, schedule, step


@schedule(cron="30 2 * * 1", timezone="Europe/Paris")
@project(name="demo_project")
class ScheduledFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ScheduledFlow()
