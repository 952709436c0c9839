# R functions of the Python flow mixed_py.py.

square <- function(self) {
  self$sq <- self$input^2
  self$label <- paste0("item-", self$index)
}

fit <- function(self) {
  frame <- self$frame
  stopifnot(is.data.frame(frame), is.integer(frame$count), is.factor(frame$kind))
  self$per_kind <- aggregate(count ~ kind, data = frame, FUN = sum)
  self$n_missing <- sum(is.na(frame$count))
  self$total <- sum(unlist(self$squares))
}
