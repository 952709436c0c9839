"""A foreach inside a foreach: groups of numbers, each number doubled.

end: sums == [6, 24], total == 30,
     where == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)], counts == [2, 3],
     first_stacks: foreach_stack() of each group's first inner task
"""

from headwater import FlowSpec, step

EXPECTED = {
    "sums": [6, 24],
    "total": 30,
    "where": [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)],
    "counts": [2, 3],
    "first_stacks": [[(0, 2, [1, 2]), (0, 2, 1)], [(1, 2, [3, 4, 5]), (0, 3, 3)]],
}


class NestedForeachFlow(FlowSpec):
    """Outer foreach over groups, inner foreach over each group's values."""

    @step
    def start(self):
        self.groups = [[1, 2], [3, 4, 5]]
        self.next(self.outer, foreach="groups")

    @step
    def outer(self):
        self.values = self.input
        self.next(self.inner, foreach="values")

    @step
    def inner(self):
        """Double the value; remember (outer index, inner index)."""
        self.val = self.input * 2
        self.pos = (self.foreach_stack()[0][0], self.index)
        self.stack_values = list(self.foreach_stack())
        self.next(self.join_inner)

    @step
    def join_inner(self, inputs):
        self.group_sum = sum(inp.val for inp in inputs)
        self.where = [inp.pos for inp in inputs]
        self.n_inputs = len(inputs)
        self.first_stack = inputs[0].stack_values
        self.next(self.join_outer)

    @step
    def join_outer(self, inputs):
        self.sums = [inp.group_sum for inp in inputs]
        self.total = sum(self.sums)
        self.where = [pos for inp in inputs for pos in inp.where]
        self.counts = [inp.n_inputs for inp in inputs]
        self.first_stacks = [inp.first_stack for inp in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NestedForeachFlow()
