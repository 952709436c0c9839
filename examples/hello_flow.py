"""A linear flow: three steps, a parameter, and an artifact passed along."""

from headwater import FlowSpec, Parameter, step


class HelloFlow(FlowSpec):
    """Say hello, count the letters, finish."""

    name_to_greet = Parameter("who", default="world", help="whom to greet")

    @step
    def start(self):
        """Build the greeting."""
        self.greeting = f"Hello, {self.name_to_greet}!"
        print(self.greeting)
        self.next(self.count)

    @step
    def count(self):
        """Count its letters."""
        self.letters = sum(c.isalpha() for c in self.greeting)
        self.next(self.end)

    @step
    def end(self):
        """Done."""
        print(f"{self.greeting!r} has {self.letters} letters")


if __name__ == "__main__":
    HelloFlow()
