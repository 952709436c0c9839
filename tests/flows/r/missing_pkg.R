# A flow whose script needs an R package that is not installed.
library(headwater)
library(notinstalledpkg42)

start <- function(self) self$x <- 1

metaflow("MissingPkgFlow") %>%
  step(step = "start", r_function = start, next_step = "end") %>%
  step(step = "end") %>%
  run()
