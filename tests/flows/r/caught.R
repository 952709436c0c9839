# A failure kept by catch(): the flow goes on.
library(headwater)

start <- function(self) {
  stop("no data today")
}

end <- function(self) {
  self$seen <- !is.null(self$failure)
}

metaflow("CaughtRFlow") %>%
  step(step = "start", catch(var = "failure"), retry(times = 0), r_function = start, next_step = "end") %>%
  step(step = "end", r_function = end) %>%
  run()
