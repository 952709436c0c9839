# Building a flow: metaflow() %>% parameter() %>% step() %>% ... %>% run().
#
# A flow is a plain value (a list of class hw_flow). run() turns it into a headwater flow:
# a Python file next to the script (written only when it changes) that headwater's Python core
# runs like any flow, each R step being @r(file = <script>, step = <name>).

#' Pipe a value into a call, as magrittr's %>% does
#'
#' @param lhs a value
#' @param rhs a call (lhs becomes its first argument) or a function
#' @export
`%>%` <- function(lhs, rhs) {
  rhs <- substitute(rhs)
  env <- parent.frame()
  if (is.call(rhs) && !identical(rhs[[1]], as.name("function"))) {
    dot <- vapply(as.list(rhs)[-1], function(a) identical(a, as.name(".")), logical(1))
    call <- if (any(dot)) rhs else as.call(c(rhs[[1]], quote(.), as.list(rhs)[-1]))
  } else {
    call <- call("(", rhs)
    call <- as.call(list(call, quote(.)))
  }
  eval(call, list(. = lhs), env)
}

#' Start a flow
#'
#' @param name the flow's name, a valid Python identifier
#' @param ... flow decorators (none yet)
#' @return a flow, to pipe into parameter(), step() and run()
#' @export
metaflow <- function(name, ...) {
  check_identifier(name, "flow name")
  structure(list(name = name, parameters = list(), steps = list(), doc = ""), class = "hw_flow")
}

#' @export
print.hw_flow <- function(x, ...) {
  cat("<headwater flow ", x$name, ": ", paste(names(x$steps), collapse = " -> "), ">\n", sep = "")
  invisible(x)
}

PY_KEYWORDS <- c(
  "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
  "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if",
  "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
  "while", "with", "yield"
)

check_identifier <- function(x, what) {
  if (!is.character(x) || length(x) != 1L || is.na(x) ||
    !grepl("^[A-Za-z_][A-Za-z0-9_]*$", x) || x %in% PY_KEYWORDS) {
    stop(sprintf(
      "%s %s is not valid: use letters, digits and underscores, not starting with a digit",
      what, encodeString(paste(x, collapse = " "), quote = "'")
    ), call. = FALSE)
  }
  invisible(x)
}

#' Add a parameter to the flow
#'
#' @param flow the flow
#' @param parameter the parameter's name (the option --<name> of run)
#' @param required whether run needs a value
#' @param help the help text
#' @param separator split a text value into a list at this separator
#' @param default the default value
#' @param type "int", "float", "str" or "bool" (default: from the default value)
#' @param is_flag a flag without a value (--name)
#' @export
parameter <- function(flow, parameter, required = FALSE, help = NULL, separator = NULL,
                      default = NULL, type = NULL, is_flag = FALSE) {
  check_identifier(parameter, "parameter name")
  if (!is.null(type)) {
    type <- switch(as.character(type),
      int = , integer = "int", float = , numeric = , double = "float",
      str = , character = "str", bool = , logical = "bool",
      stop(sprintf("parameter('%s'): type must be \"int\", \"float\", \"str\" or \"bool\"", parameter), call. = FALSE)
    )
  }
  if (is.function(default)) {
    stop(sprintf("parameter('%s'): give a value as default, not a function", parameter), call. = FALSE)
  }
  flow$parameters[[parameter]] <- list(
    name = parameter, required = required, help = help, separator = separator,
    default = default, type = type, is_flag = is_flag
  )
  flow
}

#' A step decorator
#'
#' @param x the decorator's name (retry, catch, timeout, resources, environment, card, ...)
#' @param ... its named arguments
#' @param .convert_args accepted for compatibility; arguments are always converted
#' @export
decorator <- function(x, ..., .convert_args = TRUE) {
  check_identifier(x, "decorator name")
  args <- list(...)
  if (length(args) && (is.null(names(args)) || any(names(args) == ""))) {
    stop(sprintf("decorator('%s'): name every argument, as in decorator('%s', times = 2)", x, x), call. = FALSE)
  }
  structure(list(name = x, args = args), class = "hw_decorator")
}

#' @export
print.hw_decorator <- function(x, ...) {
  cat("<decorator @", x$name, ">\n", sep = "")
  invisible(x)
}

drop_null <- function(x) x[!vapply(x, is.null, logical(1))]

#' Retry a failed step
#' @param times attempts after the first (default: headwater's, 3)
#' @param minutes_between_retries minutes to wait (default: headwater's, 2)
#' @export
retry <- function(times = NULL, minutes_between_retries = NULL) {
  do.call(decorator, c("retry", drop_null(list(times = times, minutes_between_retries = minutes_between_retries))))
}

#' Keep a step's failure in an artifact and go on
#' @param var the artifact that receives the failure
#' @param print_exception print the failure in the log
#' @export
catch <- function(var = NULL, print_exception = TRUE) {
  do.call(decorator, c("catch", drop_null(list(var = var, print_exception = print_exception))))
}

#' What a step needs
#' @param cpu,memory,gpu,disk as headwater's @resources (memory and disk in MB)
#' @export
resources <- function(cpu = NULL, memory = NULL, gpu = NULL, disk = NULL) {
  do.call(decorator, c("resources", drop_null(list(cpu = cpu, memory = memory, gpu = gpu, disk = disk))))
}

#' Stop a step that runs too long
#' @param seconds,minutes,hours the limit
#' @export
timeout <- function(seconds = NULL, minutes = NULL, hours = NULL) {
  do.call(decorator, c("timeout", drop_null(list(seconds = seconds, minutes = minutes, hours = hours))))
}

#' Environment variables of a step
#' @param ... named values, turned into text
#' @export
environment_variables <- function(...) {
  vars <- list(...)
  if (length(vars) && (is.null(names(vars)) || any(names(vars) == ""))) {
    stop("environment_variables(): name every variable, as in environment_variables(LANG = \"C\")", call. = FALSE)
  }
  decorator("environment", vars = lapply(vars, as.character))
}

#' Add a step to the flow
#'
#' @param flow the flow
#' @param ... decorators of the step (retry(), catch(), decorator(...))
#' @param step the step's name
#' @param r_function the R function that runs the step: function(self), or
#'   function(self, inputs) in a join
#' @param foreach the artifact whose elements the next step runs over, one task each
#' @param join whether the step joins branches (its function gets inputs)
#' @param next_step the step(s) that follow: several for branches
#' @param py_file,py_function a Python function (in py_file, next to the script) that runs the
#'   step instead: def f(self) or def f(self, inputs)
#' @export
step <- function(flow, ..., step, r_function = NULL, foreach = NULL, join = FALSE,
                 next_step = NULL, py_file = NULL, py_function = NULL) {
  if (!inherits(flow, "hw_flow")) stop("step() continues a flow: metaflow(\"Name\") %>% step(...)", call. = FALSE)
  check_identifier(step, "step name")
  if (!is.null(step) && step %in% names(flow$steps)) {
    stop(sprintf("the flow already has a step '%s'", step), call. = FALSE)
  }
  decorators <- Filter(function(d) inherits(d, "hw_decorator"), list(...))
  if (!is.null(r_function) && !is.function(r_function)) {
    stop(sprintf("step '%s': r_function must be a function", step), call. = FALSE)
  }
  if (!is.null(r_function) && !is.null(py_function)) {
    stop(sprintf("step '%s': give r_function or py_function, not both", step), call. = FALSE)
  }
  if (!is.null(py_function) != !is.null(py_file)) {
    stop(sprintf("step '%s': give py_file and py_function together", step), call. = FALSE)
  }
  for (n in next_step) check_identifier(n, "next_step")
  if (!is.null(foreach)) check_identifier(foreach, "foreach")
  fname <- paste(deparse(substitute(r_function)), collapse = " ")
  flow$steps[[step]] <- list(
    name = step, r_function = r_function, function_name = fname, foreach = foreach,
    join = isTRUE(join), next_step = next_step, decorators = decorators,
    py_file = py_file, py_function = py_function
  )
  flow
}

