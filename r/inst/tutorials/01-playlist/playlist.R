# Episode 01: a playlist of movies of one genre, with a bonus pick from another, made by two
# branches that a join brings together. Parameters come from the command line:
#   Rscript playlist.R run --genre Comedy --top_k 3
library(headwater)

# Read the movies into a data frame.
start <- function(self) {
  self$df <- read.csv("movies.csv", stringsAsFactors = FALSE)
}

# The movies of the chosen genre, shuffled.
pick_movie <- function(self) {
  of_genre <- self$df[self$df$genre == self$genre, ]
  self$movies <- of_genre[sample(nrow(of_genre)), ]
}

# One movie of another genre.
bonus_movie <- function(self) {
  others <- self$df[self$df$genre != self$genre, ]
  self$bonus <- others$movie_title[sample(nrow(others), size = 1)]
}

# The branches meet: keep what each one found.
join <- function(self, inputs) {
  self$playlist <- inputs$pick_movie$movies
  self$bonus <- inputs$bonus_movie$bonus
}

end <- function(self) {
  message("Playlist for movies in genre: ", self$genre)
  for (i in seq_len(min(nrow(self$playlist), self$top_k))) {
    message(sprintf("Pick %d: %s", i, self$playlist$movie_title[i]))
  }
  message("Bonus: ", self$bonus)
}

metaflow("PlayListFlow") %>%
  parameter("genre", help = "Filter movies for a particular genre.", default = "Sci-Fi") %>%
  parameter("top_k", help = "The number of movies to recommend.", default = 5, type = "int") %>%
  step(step = "start", r_function = start, next_step = c("pick_movie", "bonus_movie")) %>%
  step(step = "pick_movie", r_function = pick_movie, next_step = "join") %>%
  step(step = "bonus_movie", r_function = bonus_movie, next_step = "join") %>%
  step(step = "join", r_function = join, join = TRUE, next_step = "end") %>%
  step(step = "end", r_function = end) %>%
  run()
