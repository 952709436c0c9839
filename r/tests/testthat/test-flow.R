test_that("Python literals are escaped", {
  lit <- headwater:::py_literal
  expect_equal(lit("it's \"x\"\\\n"), "\"it's \\\"x\\\"\\\\\\n\"")
  expect_equal(lit(2), "2.0")
  expect_equal(lit(2L), "2")
  expect_equal(lit(TRUE), "True")
  expect_equal(lit(NULL), "None")
  expect_equal(lit(c(1L, 2L)), "[1, 2]")
  expect_equal(lit(list(a = "b")), "{\"a\": \"b\"}")
  expect_equal(lit(0.1), "0.10000000000000001")
})

test_that("the generated flow is Python that reads back the same strings", {
  flow <- metaflow("QuoteFlow") %>%
    parameter("p", default = "a'b\"c\\d\ne", help = "\u00e9") %>%
    step(step = "start", environment_variables(X = "1 \"2\""), retry(times = 2),
      r_function = function(self) NULL, next_step = "end") %>%
    step(step = "end")
  text <- headwater:::flow_python(flow, "/tmp/quote.R")
  path <- tempfile(fileext = ".py")
  writeLines(text, path, useBytes = TRUE)
  code <- paste(
    "import ast, sys",
    "tree = ast.parse(open(sys.argv[1], encoding='utf-8').read())",
    "print([ast.literal_eval(n.value.args[0]) for n in ast.walk(tree) if isinstance(n, ast.Assign)",
    "       and isinstance(n.value, ast.Call) and getattr(n.value.func, 'id', '') == 'Parameter'])",
    "calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, 'id', '') == 'Parameter']",
    "print(ast.literal_eval(calls[0].keywords[0].value))",
    sep = "\n"
  )
  out <- processx::run(headwater_python(), c("-c", code, path))$stdout
  expect_match(out, "['p']", fixed = TRUE)
  expect_match(out, "a'b\"c\\d\ne", fixed = TRUE)
  expect_match(text, "@environment(vars={\"X\": \"1 \\\"2\\\"\"})", fixed = TRUE)
  expect_match(text, "@retry(times=2.0)", fixed = TRUE)
})

test_that("names that are not Python identifiers are refused", {
  expect_error(metaflow("my flow"), "flow name 'my flow' is not valid")
  expect_error(metaflow("F") %>% step(step = "1st"), "step name '1st' is not valid")
  expect_error(metaflow("F") %>% step(step = "class"), "step name 'class' is not valid")
  expect_error(metaflow("F") %>% parameter("a-b"), "parameter name 'a-b' is not valid")
})

test_that("run() options become a command line", {
  flow <- metaflow("F") %>% parameter("top_k", default = 1L)
  args <- headwater:::run_args(flow, list(top_k = 3, max_workers = 2, tag = c("a", "b"), with = "retry"))
  expect_equal(args, c("--with", "retry", "run", "--top_k", "3", "--max-workers", "2", "--tag", "a", "--tag", "b"))
  expect_equal(headwater:::run_args(flow, list(resume = TRUE, origin_run_id = "4")), c("resume", "--origin-run-id", "4"))
})

test_that("the pipe puts the value first", {
  f <- function(x, y) paste(x, y)
  expect_equal("a" %>% f("b"), "a b")
  expect_equal("a" %>% f(y = "c"), "a c")
  expect_equal(4 %>% sqrt(), 2)
  expect_equal(4 %>% sqrt, 2)
})

test_that("current() outside a task says it is not running a flow", {
  expect_false(current("is_running_flow"))
})
