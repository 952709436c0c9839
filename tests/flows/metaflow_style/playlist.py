"""Metaflow tutorial style: a playlist from a CSV file (IncludeFile, parameters, a branch)."""

import os

from metaflow import FlowSpec, IncludeFile, Parameter, current, step


def script_path(filename):
    """The path of a file next to this script, whatever the working directory."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)


class PlayListFlow(FlowSpec):
    """Build a playlist of movies of one genre, plus a bonus movie of another."""

    movie_data = IncludeFile(
        "movie_data", help="The path to a movie metadata file.", default=script_path("movies.csv")
    )
    genre = Parameter("genre", help="Filter movies for a particular genre.", default="Sci-Fi")
    recommendations = Parameter(
        "recommendations", help="The number of movies to recommend in the playlist.", default=3
    )

    @step
    def start(self):
        """Parse the CSV file into columns."""
        lines = [line.split(",") for line in self.movie_data.splitlines() if line]
        header, rows = lines[0], lines[1:]
        self.dataframe = {name: [row[i] for row in rows] for i, name in enumerate(header)}
        self.next(self.bonus_movie, self.genre_movies)

    @step
    def bonus_movie(self):
        """Pick a movie outside the chosen genre, the one that grossed the most."""
        picks = [
            (int(gross), title)
            for title, genres, gross in zip(
                self.dataframe["movie_title"],
                self.dataframe["genres"],
                self.dataframe["gross"],
                strict=True,
            )
            if self.genre.lower() not in genres.lower()
        ]
        self.bonus = max(picks)[1]
        self.next(self.join)

    @step
    def genre_movies(self):
        """Pick movies of the genre, newest first."""
        self.movies = sorted(
            (
                (int(year), title)
                for title, year, genres in zip(
                    self.dataframe["movie_title"],
                    self.dataframe["title_year"],
                    self.dataframe["genres"],
                    strict=True,
                )
                if self.genre.lower() in genres.lower()
            ),
            reverse=True,
        )
        self.next(self.join)

    @step
    def join(self, inputs):
        """Join the two branches."""
        self.playlist = [title for _, title in inputs.genre_movies.movies][: self.recommendations]
        self.bonus = inputs.bonus_movie.bonus
        self.flow_of_run = current.flow_name
        self.next(self.end)

    @step
    def end(self):
        """Print the playlist."""
        print(f"Playlist for movies in genre '{self.genre}'")
        for index, movie in enumerate(self.playlist):
            print(f"Pick {index + 1}: '{movie}'")
        print(f"Bonus Pick: '{self.bonus}'")


if __name__ == "__main__":
    PlayListFlow()
