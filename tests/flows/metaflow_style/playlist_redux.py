"""Metaflow tutorial style: a flow that reads another flow's latest successful run."""

from metaflow import Flow, FlowSpec, Parameter, get_metadata, step


class PlayListReduxFlow(FlowSpec):
    """Pick the genre with the highest median gross, from MovieStatsFlow's latest results."""

    min_movies = Parameter("min_movies", help="Ignore genres with fewer movies.", default=2)

    @step
    def start(self):
        """Use the Metaflow client to get the latest successful run of MovieStatsFlow."""
        print(f"Using metadata provider: {get_metadata()}")
        run = Flow("MovieStatsFlow").latest_successful_run
        print(f"Using analysis from '{run}'")
        self.stats_run = run.pathspec
        self.genre_stats = run.data.genre_stats
        self.next(self.pick)

    @step
    def pick(self):
        """Choose the best genre among those with enough movies."""
        eligible = {g: s for g, s in self.genre_stats.items() if s["count"] >= self.min_movies}
        self.best_genre = max(eligible, key=lambda g: eligible[g]["median"])
        self.next(self.end)

    @step
    def end(self):
        print(f"Best genre: {self.best_genre}")


if __name__ == "__main__":
    PlayListReduxFlow()
