# Three R steps: a global of the script, a parameter, and values of several R types.
library(headwater)
library(tools) # attached here, used unqualified in a step
greeting <- "Hi"
start <- function(self) {
  print("HelloFlow is starting.")
  self$x <- 1:3
  self$df <- data.frame(a = c(1.5, NA), b = c("u", NA))
}
hello <- function(self) {
  print(paste("Metaflow says:", greeting))
  self$y <- sum(self$x) * self$alpha
  self$stem <- file_path_sans_ext("model.rds")
}
end <- function(self) {
  print(self$y); print(self$df)
  print("HelloFlow is all done.")
}
metaflow("HelloFlow") %>%
  parameter("alpha", default = 2) %>%
  step(step = "start", r_function = start, next_step = "hello") %>%
  step(step = "hello", r_function = hello, next_step = "end") %>%
  step(step = "end", r_function = end) %>%
  run()
