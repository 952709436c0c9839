"""A @project flow whose decorator fixes the branch (and may be given a bad project name)."""

import os

from headwater import FlowSpec, current, project, step


@project(name=os.environ.get("PROJECT_NAME", "fixed"), branch="pinned")
class ProjectArgsFlow(FlowSpec):
    @step
    def start(self):
        self.branch = current.branch_name
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectArgsFlow()
