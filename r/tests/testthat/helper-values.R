# The round-trip table: R values of every kind the neutral codec holds, and an lm (RDS).
round_trip_table <- function() {
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
    na_chr = NA_character_,
    factor = factor(c("lo", "hi", NA, "lo"), levels = c("lo", "hi")),
    ordered = factor(c("S", "L"), levels = c("S", "M", "L"), ordered = TRUE),
    date = as.Date(c("2024-02-29", NA, "1969-07-20")),
    date_scalar = as.Date("2000-01-01"),
    time_utc = as.POSIXct(c("2024-01-01 10:30:00", NA), tz = "UTC"),
    time_ny = as.POSIXct("2023-06-01 08:00:00.25", tz = "America/New_York"),
    time_local = as.POSIXct("2021-06-01 12:34:56.789", tz = ""),
    named = c(a = 1, b = 2),
    named_chr = c(x = "1", y = NA),
    nested = list(a = 1L, b = list(c = "x", d = 1:3), e = list(1, "two")),
    empty = list(integer(0), double(0), character(0), logical(0), factor(character(0)), list(), raw(0)),
    raw = as.raw(c(0, 255, 7)),
    null = NULL,
    matrix = matrix(1:6, nrow = 2),
    lgl_matrix = matrix(c(TRUE, NA, FALSE, TRUE), 2),
    dbl_matrix = matrix(c(1.5, NA, 3, 4), 2, dimnames = list(c("r1", "r2"), c("c1", "c2"))),
    array3 = array(as.double(1:24), dim = c(2, 3, 4)),
    frame = data.frame(
      l = c(TRUE, NA, FALSE), i = c(1L, NA, 3L), d = c(0.5, NA, NaN),
      s = c("u", NA, "w"), f = factor(c("p", "q", NA)),
      dt = as.Date(c("2020-01-01", NA, "2020-01-03")),
      t = as.POSIXct(c("2020-01-01 00:00:01", NA, "2020-01-03 12:00:00"), tz = "Europe/Paris"),
      stringsAsFactors = FALSE
    ),
    empty_frame = data.frame(a = integer(0), b = character(0), stringsAsFactors = FALSE),
    named_rows = data.frame(x = 1:2, row.names = c("first", "second")),
    subset_rows = data.frame(a = 1:5)[c(2, 4), , drop = FALSE],
    list_column = structure(list(id = 1:2, items = list(1:3, "a")), class = "data.frame", row.names = 1:2),
    model = lm(y ~ x, data.frame(x = 1:4, y = c(1, 3, 2, 5)))
  )
}

same_value <- function(a, b) {
  if (inherits(b, "lm")) return(identical(coef(a), coef(b)))
  identical(a, b)
}
