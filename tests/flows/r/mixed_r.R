# An R flow with a Python step.
library(headwater)

start <- function(self) {
  self$df <- data.frame(x = c(1, 2, 3, NA), g = factor(c("a", "b", "a", "b")))
}

end <- function(self) {
  stopifnot(is.data.frame(self$summary), self$total == 6)
  self$checked <- TRUE
}

metaflow("MixedRFlow") %>%
  step(step = "start", r_function = start, next_step = "train") %>%
  step(step = "train", py_file = "pysteps.py", py_function = "train", next_step = "end") %>%
  step(step = "end", r_function = end) %>%
  run()
