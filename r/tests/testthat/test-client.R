# The client reads flows written in R and in Python. Each test runs a small flow in a fresh
# directory, then reads it back.

run_in <- function(dir, command, args) {
  withr_dir <- getwd()
  on.exit(setwd(withr_dir))
  setwd(dir)
  processx::run(command, args, error_on_status = TRUE, env = c("current", HEADWATER_ROOT = file.path(dir, ".headwater")))
}

with_root <- function(dir, code) {
  old <- Sys.getenv("HEADWATER_ROOT", unset = NA)
  Sys.setenv(HEADWATER_ROOT = file.path(dir, ".headwater"))
  headwater:::reset_helper()
  on.exit({
    if (is.na(old)) Sys.unsetenv("HEADWATER_ROOT") else Sys.setenv(HEADWATER_ROOT = old)
    headwater:::reset_helper()
  })
  force(code)
}

test_that("flow, run, step and task clients read an R flow", {
  dir <- tempfile()
  dir.create(dir)
  writeLines(c(
    "library(headwater)",
    "start <- function(self) { print('hello from start'); self$df <- data.frame(a = 1:2, b = c('x', NA)) }",
    "end <- function(self) self$n <- nrow(self$df)",
    "metaflow('ClientRFlow') %>% step(step = 'start', r_function = start, next_step = 'end') %>%",
    "  step(step = 'end', r_function = end) %>% run()"
  ), file.path(dir, "flow.R"))
  run_in(dir, "Rscript", c("flow.R", "run", "--tag", "t1"))
  with_root(dir, {
    set_namespace(NULL)
    expect_null(get_namespace())
    expect_true("ClientRFlow" %in% list_flows())
    flow <- flow_client$new("ClientRFlow")
    expect_equal(flow$latest_successful_run, "1")
    run <- run_client$new(flow, "latest_successful_run")
    expect_true(run$successful)
    expect_s3_class(run$finished_at, "POSIXct")
    expect_true(all(c("df", "n") %in% run$artifacts))
    expect_identical(run$artifact("df"), data.frame(a = 1:2, b = c("x", NA)))
    expect_identical(run$artifact("n"), 2L)
    expect_true("t1" %in% run$tags)
    expect_setequal(run$steps, c("start", "end"))
    step <- step_client$new(run, "start")
    task <- task_client$new(step, step$a_task)
    expect_true(task$successful)
    expect_match(task$stdout, "hello from start")
    expect_true("df" %in% task$artifacts)
    same <- task_client$new(task$pathspec)
    expect_equal(same$id, task$id)
    expect_output(task$summary(), "Successful")
    expect_output(run$summary(), "Run ClientRFlow/1")
    mf <- mf_client$new()
    expect_equal(mf$flow("ClientRFlow")$id, "ClientRFlow")
    expect_error(run$artifact("nope"), "has no artifact 'nope'")
  })
})

test_that("R reads a Python flow's results", {
  dir <- tempfile()
  dir.create(dir)
  writeLines(c(
    "import pandas as pd",
    "from headwater import FlowSpec, step",
    "class PyForR(FlowSpec):",
    "    @step",
    "    def start(self):",
    "        self.frame = pd.DataFrame({'k': ['a', 'b'], 'v': [1.5, None]})",
    "        self.numbers = [1, 2, 3]",
    "        self.settings = {'depth': 3, 'name': 'tree'}",
    "        self.next(self.end)",
    "    @step",
    "    def end(self):",
    "        pass",
    "if __name__ == '__main__':",
    "    PyForR()"
  ), file.path(dir, "pyflow.py"))
  run_in(dir, headwater_python(), c("pyflow.py", "run"))
  with_root(dir, {
    set_namespace(NULL)
    run <- run_client$new("PyForR/1")
    frame <- run$artifact("frame")
    expect_identical(frame, data.frame(k = c("a", "b"), v = c(1.5, NA)))
    expect_identical(run$artifact("numbers"), list(1L, 2L, 3L))
    expect_identical(run$artifact("settings"), list(depth = 3L, name = "tree"))
  })
})
