"""A flow in a @project: records what `current` says about the project and branch."""

from headwater import FlowSpec, Parameter, current, project, step


def branch_default(ctx):
    return f"default read on {current.branch_name}"  # current is known while the run starts


@project(name="demo_project")
class ProjectFlow(FlowSpec):
    launched = Parameter("launched", default=branch_default)

    @step
    def start(self):
        self.project = {
            "project_name": current.project_name,
            "branch_name": current.branch_name,
            "is_user_branch": current.is_user_branch,
            "is_production": current.is_production,
            "project_flow_name": current.project_flow_name,
        }
        self.next(self.end)

    @step
    def end(self):
        self.end_branch = current.branch_name


if __name__ == "__main__":
    ProjectFlow()
