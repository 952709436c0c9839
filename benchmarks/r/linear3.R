# Three trivial R steps (as Metaflow R's hello world): the r_linear3 scenario.
library(headwater)

start <- function(self) self$x <- 1L
a <- function(self) self$y <- self$x + 1L
end <- function(self) stopifnot(self$y == 2L)

metaflow("RLinear3Flow") %>%
  step(step = "start", r_function = start, next_step = "a") %>%
  step(step = "a", r_function = a, next_step = "end") %>%
  step(step = "end", r_function = end) %>%
  run()
