# Episode 00: the smallest flow, three R steps. Run it with
#   Rscript helloworld.R show
#   Rscript helloworld.R run
library(headwater)

# Every flow starts with a step named "start".
start <- function(self) {
  print("HelloFlow is starting.")
}

# A step in the middle: headwater says hello.
hello <- function(self) {
  print("headwater says: Hi!")
}

# ... and ends with a step named "end".
end <- function(self) {
  print("HelloFlow is all done.")
}

metaflow("HelloFlow") %>%
  step(step = "start", r_function = start, next_step = "hello") %>%
  step(step = "hello", r_function = hello, next_step = "end") %>%
  step(step = "end", r_function = end) %>%
  run()
