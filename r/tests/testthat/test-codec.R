test_that("every value of the table comes back from a file identical", {
  for (name in names(round_trip_table())) {
    value <- round_trip_table()[[name]]
    path <- tempfile()
    info <- headwater:::hw_write_value(value, path)
    back <- headwater:::hw_read_value(path, info$codec)
    expect_true(same_value(back, value), label = name)
  }
})

test_that("R data is neutral, other objects are RDS", {
  path <- tempfile()
  expect_equal(headwater:::hw_write_value(data.frame(a = 1), path)$codec, "neutral")
  expect_equal(headwater:::hw_write_value(lm(y ~ x, data.frame(x = 1:3, y = c(1, 2, 4))), path)$codec, "rds")
  expect_equal(headwater:::hw_write_value(structure(1:3, class = "myclass"), path)$codec, "rds")
  expect_equal(headwater:::hw_write_value(list(a = 1, a = 2), path)$codec, "rds")
  expect_equal(headwater:::hw_write_value(function(x) x, path)$codec, "rds")
})

test_that("a list holding a model keeps the model as RDS inside a neutral list", {
  path <- tempfile()
  value <- list(n = 3L, model = lm(y ~ x, data.frame(x = 1:3, y = c(1, 2, 4))))
  info <- headwater:::hw_write_value(value, path)
  expect_equal(info$codec, "neutral")
  back <- headwater:::hw_read_value(path, info$codec)
  expect_identical(back$n, 3L)
  expect_identical(coef(back$model), coef(value$model))
})

test_that("type names say what the value is", {
  path <- tempfile()
  expect_equal(headwater:::hw_write_value(data.frame(a = 1), path)$type, "R.data.frame")
  expect_equal(headwater:::hw_write_value(1.5, path)$type, "R.numeric")
  expect_equal(headwater:::hw_write_value(factor("a"), path)$type, "R.factor")
  expect_equal(headwater:::hw_write_value(matrix(1:4, 2), path)$type, "R.matrix")
})
