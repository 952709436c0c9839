"""@catch placed on a foreach step: `check` must refuse it."""

from headwater import FlowSpec, catch, retry, step


class CatchOnForeachFlow(FlowSpec):
    @catch(var="err")
    @retry(times=1)
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CatchOnForeachFlow()
