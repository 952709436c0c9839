# run() options: used when Rscript is given no command.
library(headwater)

start <- function(self) {
  self$seen_alpha <- self$alpha
  self$seen_tags <- current("tags")
}

metaflow("OptionsRFlow") %>%
  parameter("alpha", default = 1, help = "a number") %>%
  parameter("label", default = "it's \"quoted\"\\ and\nnew-lined", help = "text with 'quotes'") %>%
  step(step = "start", r_function = start, next_step = "end") %>%
  step(step = "end") %>%
  run(alpha = 5, tag = c("from-run", "second"), max_workers = 1)
