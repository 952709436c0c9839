# Episode 03: use what another flow found. The start step reads the statistics of the latest
# successful run of MovieStatsFlow (episode 02) with the client, and the playlist comes from
# the genre with the highest median gross.
#   Rscript playlist.R run
library(headwater)

start <- function(self) {
  self$df <- read.csv("movies.csv", stringsAsFactors = FALSE)
  message("Using metadata provider: ", get_metadata())
  flow <- flow_client$new("MovieStatsFlow")
  run <- run_client$new(flow, flow$latest_successful_run)
  message("Using analysis from: ", run$pathspec)
  self$genre_stats <- run$artifact("stats")
}

pick_movie <- function(self) {
  ranked <- self$genre_stats[order(self$genre_stats$median, decreasing = TRUE), ]
  self$picked_genre <- ranked$genres[1]
  message("Picked genre: ", self$picked_genre, ", the highest median gross")
  of_genre <- self$df[self$df$genre == self$picked_genre, ]
  self$playlist <- of_genre[sample(nrow(of_genre)), ]
}

end <- function(self) {
  message("Playlist for movies in picked genre: ", self$picked_genre)
  for (i in seq_len(min(nrow(self$playlist), self$top_k))) {
    message(sprintf("Pick %d: %s", i, self$playlist$movie_title[i]))
  }
}

metaflow("PlayListReduxFlow") %>%
  parameter("top_k", help = "The number of movies to recommend.", default = 5, type = "int") %>%
  step(step = "start", r_function = start, next_step = "pick_movie") %>%
  step(step = "pick_movie", r_function = pick_movie, next_step = "end") %>%
  step(step = "end", r_function = end) %>%
  run()
