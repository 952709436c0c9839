"""Branch, join, nested foreach and joins, with a failure injected by FAIL_AT (see failmode).

end: total == 66 (inner values 0, 1, 10, 11, 20, 21 plus a + b == 3).
Every step records the run it ran in, so a test can tell cloned tasks from re-run ones.
"""

from failmode import fail_at

from headwater import FlowSpec, current, step


class ResumableFlow(FlowSpec):
    @step
    def start(self):
        fail_at("start")
        self.items = [0, 1, 2]
        self.ran = {"start": current.run_id}
        self.next(self.a, self.b)

    @step
    def a(self):
        fail_at("a")
        self.a_val = 1
        self.next(self.join_ab)

    @step
    def b(self):
        fail_at("b")
        self.b_val = 2
        self.next(self.join_ab)

    @step
    def join_ab(self, inputs):
        fail_at("join_ab")
        self.merge_artifacts(inputs, include=["items"])
        self.ab = inputs.a.a_val + inputs.b.b_val
        self.next(self.fan)

    @step
    def fan(self):
        self.next(self.outer, foreach="items")

    @step
    def outer(self):
        fail_at("outer", self.input)
        self.groups = [self.input * 10, self.input * 10 + 1]
        self.next(self.inner, foreach="groups")

    @step
    def inner(self):
        fail_at("inner", self.input)
        self.v = self.input
        self.origin_seen = current.origin_run_id
        self.next(self.join_inner)

    @step
    def join_inner(self, inputs):
        fail_at("join_inner")
        self.vals = [i.v for i in inputs]
        self.merge_artifacts(inputs, include=["ab"])
        self.next(self.join_outer)

    @step
    def join_outer(self, inputs):
        fail_at("join_outer")
        self.all_vals = [v for i in inputs for v in i.vals]
        self.merge_artifacts(inputs, include=["ab"])
        self.next(self.end)

    @step
    def end(self):
        fail_at("end")
        self.total = sum(self.all_vals) + self.ab


if __name__ == "__main__":
    ResumableFlow()
