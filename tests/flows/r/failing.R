# A step that stops, retried once (BOOM=off in the environment lets it finish).
library(headwater)

start <- function(self) {
  self$before <- "kept"
}

boom <- function(self) {
  if (Sys.getenv("BOOM") == "off") {
    self$after <- "fixed"
    return(invisible())
  }
  helper_that_fails(self$before)
}

helper_that_fails <- function(x) {
  stop("the model did not converge on ", x)
}

metaflow("FailingRFlow") %>%
  step(step = "start", r_function = start, next_step = "boom") %>%
  step(step = "boom", retry(times = 1, minutes_between_retries = 0), r_function = boom, next_step = "end") %>%
  step(step = "end") %>%
  run()
