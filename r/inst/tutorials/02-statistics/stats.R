# Episode 02: statistics of box office gross per genre: a foreach runs one task per genre, and
# a join gathers their results into a data frame.
#   Rscript stats.R run
library(headwater)

start <- function(self) {
  self$df <- read.csv("movies.csv", stringsAsFactors = FALSE)
  self$genres <- levels(as.factor(self$df$genre))
}

# One task per genre: self$input is this task's genre.
compute_stats <- function(self) {
  self$genre <- self$input
  message("Computing statistics for ", self$genre)
  gross <- self$df$gross[self$df$genre == self$genre]
  self$median <- median(gross)
  self$mean <- mean(gross)
}

# One row per genre.
join <- function(self, inputs) {
  self$stats <- data.frame(
    genres = unlist(gather_inputs(inputs, "genre")),
    median = unlist(gather_inputs(inputs, "median")),
    mean = unlist(gather_inputs(inputs, "mean"))
  )
  print(head(self$stats))
}

metaflow("MovieStatsFlow") %>%
  step(step = "start", r_function = start, next_step = "compute_stats", foreach = "genres") %>%
  step(step = "compute_stats", r_function = compute_stats, next_step = "join") %>%
  step(step = "join", r_function = join, join = TRUE, next_step = "end") %>%
  step(step = "end") %>%
  run()
