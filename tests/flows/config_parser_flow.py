"""Configs read by parsers: a callable, a "module.function" string, and a required config."""

from headwater import Config, FlowSpec, step


def parse_pairs(text):
    """``key=value`` lines; a line without ``=`` is an error."""
    out = {}
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        key, eq, value = line.partition("=")
        if not eq:
            raise ValueError(f"line {line!r} has no '='")
        out[key.strip()] = value.strip()
    return out


class ConfigParserFlow(FlowSpec):
    pairs = Config("pairs", default_value="a=1\nb=two", parser=parse_pairs)
    toml = Config("toml", default_value='x = 1\n[table]\ny = "z"', parser="tomllib.loads")
    must = Config("must", required=True, help="no default: give it on the command line")

    @step
    def start(self):
        self.values = {
            "pairs": self.pairs.to_dict(),
            "toml": self.toml.to_dict(),
            "must": self.must.to_dict(),
        }
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ConfigParserFlow()
