# R -> Python -> R: Python decodes each value of the table into its Python form and encodes
# that back; R reads the result. (Through a flow the same table is tested in
# tests/r/test_r_flows.py.)

python_round_trip <- function(dir) {
  code <- paste(
    "import os, sys",
    "from headwater.serde.neutral import decode, encode",
    "d = sys.argv[1]",
    "for name in sorted(os.listdir(d)):",
    "    if not name.endswith('.neutral'): continue",
    "    value = decode(open(os.path.join(d, name), 'rb').read())",
    "    with open(os.path.join(d, name + '.back'), 'wb') as fh:",
    "        for piece in encode(value): fh.write(piece)",
    sep = "\n"
  )
  processx::run(headwater_python(), c("-c", code, dir))
}

test_that("the round-trip table R -> Python -> R is lossless", {
  dir <- tempfile()
  dir.create(dir)
  table <- round_trip_table()
  table$model <- NULL # RDS: opaque to Python, tested in the flow
  for (name in names(table)) headwater:::hw_write_value(table[[name]], file.path(dir, paste0(name, ".neutral")))
  python_round_trip(dir)
  for (name in names(table)) {
    back <- headwater:::hw_read_value(file.path(dir, paste0(name, ".neutral.back")))
    expect_true(same_value(back, table[[name]]), label = name)
  }
})

test_that("a data frame from pandas has R's types", {
  code <- paste(
    "import sys, datetime, pandas as pd",
    "from headwater.serde.neutral import encode",
    "df = pd.DataFrame({'i': pd.array([1, None], dtype='Int64'), 'f': [0.5, None],",
    "  's': ['a', None], 'c': pd.Categorical(['x', 'y']), 'b': [True, False],",
    "  'd': [datetime.date(2020, 1, 2), None],",
    "  't': pd.to_datetime(['2020-01-01 10:00', None]).tz_localize('UTC')})",
    "open(sys.argv[1], 'wb').write(b''.join(bytes(p) for p in encode(df)))",
    sep = "\n"
  )
  path <- tempfile()
  processx::run(headwater_python(), c("-c", code, path))
  df <- headwater:::hw_read_value(path)
  expect_s3_class(df, "data.frame")
  expect_identical(df$i, c(1L, NA))
  expect_identical(df$f, c(0.5, NA))
  expect_identical(df$s, c("a", NA))
  expect_identical(df$c, factor(c("x", "y")))
  expect_identical(df$b, c(TRUE, FALSE))
  expect_identical(df$d, as.Date(c("2020-01-02", NA)))
  expect_identical(df$t, as.POSIXct(c("2020-01-01 10:00:00", NA), tz = "UTC"))
})
