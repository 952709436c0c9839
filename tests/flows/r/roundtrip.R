# R values through a Python step and back: start assigns the round-trip table (made by a
# function defined here, outside the steps), a Python step re-assigns it as Python values
# (pickled), and check compares what R reads then with the table.
library(headwater)

table_of_values <- function() {
  list(
    lgl = c(TRUE, NA, FALSE),
    int = c(1L, NA, -3L),
    dbl = c(1.5, NA, NaN, -Inf),
    chr = c("a", NA, "\u00e9t\u00e9", ""),
    int_scalar = 7L,
    dbl_scalar = 2.5,
    chr_scalar = "x",
    lgl_scalar = TRUE,
    na_int = NA_integer_,
    factor = factor(c("lo", "hi", NA, "lo"), levels = c("lo", "hi")),
    ordered = factor(c("S", "L"), levels = c("S", "M", "L"), ordered = TRUE),
    date = as.Date(c("2024-02-29", NA, "1969-07-20")),
    time_utc = as.POSIXct(c("2024-01-01 10:30:00", NA), tz = "UTC"),
    time_ny = as.POSIXct("2023-06-01 08:00:00.25", tz = "America/New_York"),
    named = c(a = 1, b = 2),
    nested = list(a = 1L, b = list(c = "x", d = 1:3), e = list(1, "two")),
    empty = list(integer(0), double(0), character(0), logical(0), factor(character(0)), list()),
    null = NULL,
    matrix = matrix(1:6, nrow = 2),
    dbl_matrix = matrix(c(1.5, NA, 3, 4), 2, dimnames = list(c("r1", "r2"), c("c1", "c2"))),
    frame = data.frame(
      l = c(TRUE, NA, FALSE), i = c(1L, NA, 3L), d = c(0.5, NA, NaN),
      s = c("u", NA, "w"), f = factor(c("p", "q", NA)),
      dt = as.Date(c("2020-01-01", NA, "2020-01-03")),
      t = as.POSIXct(c("2020-01-01 00:00:01", NA, "2020-01-03 12:00:00"), tz = "Europe/Paris"),
      stringsAsFactors = FALSE
    ),
    empty_frame = data.frame(a = integer(0), b = character(0), stringsAsFactors = FALSE),
    named_rows = data.frame(x = 1:2, row.names = c("first", "second")),
    model = lm(y ~ x, data.frame(x = 1:4, y = c(1, 3, 2, 5)))
  )
}

start <- function(self) {
  self$values <- table_of_values()
}

check <- function(self) {
  want <- table_of_values()
  got <- self$values_py
  same <- vapply(names(want), function(n) {
    if (n == "model") return(identical(coef(got[[n]]), coef(want[[n]])))
    identical(got[[n]], want[[n]])
  }, logical(1))
  for (n in names(want)[!same]) {
    message("differs: ", n)
    str(got[[n]])
    str(want[[n]])
  }
  self$mismatches <- names(want)[!same]
  self$compared <- length(want)
  self$first_pass <- identical(self$values[names(want) != "model"], want[names(want) != "model"])
}

metaflow("RoundTripFlow") %>%
  step(step = "start", r_function = start, next_step = "bounce") %>%
  step(step = "bounce", py_file = "pysteps.py", py_function = "bounce", next_step = "check") %>%
  step(step = "check", r_function = check, next_step = "end") %>%
  step(step = "end") %>%
  run()
