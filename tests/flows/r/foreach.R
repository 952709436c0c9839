# Foreach over an R list and over a character vector: split by element.
library(headwater)

start <- function(self) {
  self$configs <- list(list(name = "small", size = 1L), list(name = "big", size = 10L))
  self$letters <- c("x", "y", "z")
}

each_config <- function(self) {
  self$result <- paste(self$input$name, self$input$size * 2L)
}

join_configs <- function(self, inputs) {
  self$results <- unlist(gather_inputs(inputs, "result"))
  merge_artifacts(self, inputs, exclude = list("result"))
}

each_letter <- function(self) {
  self$upper <- toupper(self$input)
  self$position <- self$index
}

join_letters <- function(self, inputs) {
  self$uppers <- vapply(inputs, function(i) i$upper, "")
  self$positions <- vapply(inputs, function(i) i$position, 1L)
}

metaflow("ForeachRFlow") %>%
  parameter("n", default = 2L) %>%
  step(step = "start", r_function = start, next_step = "each_config", foreach = "configs") %>%
  step(step = "each_config", r_function = each_config, next_step = "join_configs") %>%
  step(step = "join_configs", r_function = join_configs, join = TRUE, next_step = "letters_step") %>%
  step(step = "letters_step", r_function = function(self) self$copy <- self$letters, next_step = "each_letter", foreach = "letters") %>%
  step(step = "each_letter", r_function = each_letter, next_step = "join_letters") %>%
  step(step = "join_letters", r_function = join_letters, join = TRUE, next_step = "end") %>%
  step(step = "end") %>%
  run()
