"""Metaflow tutorial style: statistics of movies per genre (a foreach and its join)."""

import os
import statistics

from metaflow import FlowSpec, IncludeFile, step


def script_path(filename):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)


class MovieStatsFlow(FlowSpec):
    """Compute the median gross of the movies of each genre, one task per genre."""

    movie_data = IncludeFile(
        "movie_data", help="The path to a movie metadata file.", default=script_path("movies.csv")
    )

    @step
    def start(self):
        """Read the movies and list the genres."""
        rows = [line.split(",") for line in self.movie_data.splitlines()[1:] if line]
        self.movies = [
            {"title": r[0], "year": int(r[1]), "genres": r[2].split("|"), "gross": int(r[3])}
            for r in rows
        ]
        self.genres = sorted({g for m in self.movies for g in m["genres"]})
        self.next(self.compute_statistics, foreach="genres")

    @step
    def compute_statistics(self):
        """Compute statistics for a single genre."""
        self.genre = self.input
        grosses = sorted(m["gross"] for m in self.movies if self.genre in m["genres"])
        self.count = len(grosses)
        self.median = statistics.median(grosses)
        self.next(self.join)

    @step
    def join(self, inputs):
        """Join our parallel branches and merge results into a dictionary."""
        self.genre_stats = {
            inp.genre.lower(): {"count": inp.count, "median": inp.median} for inp in inputs
        }
        self.next(self.end)

    @step
    def end(self):
        """End the flow."""
        print(f"{len(self.genre_stats)} genres")


if __name__ == "__main__":
    MovieStatsFlow()
