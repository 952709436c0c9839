# The R side of one R step (see headwater/plugins/r_session.py for the Python side): source the
# flow's script, run the step's function over `self` (and `inputs` in a join), hand what it
# assigned back to the task's Python process, which stores it.

.hw <- new.env(parent = emptyenv())
.hw$mode <- "script" # "task" while a task sources the flow's script
.hw$flow <- NULL # the flow run() was given, in a task
.hw$task <- NULL # the task's spec, in a task

in_task <- function() identical(.hw$mode, "task")

# --- the pipe to the task's Python process --------------------------------------------------

request <- function(...) {
  msg <- list(...)
  line <- as.character(jsonlite::toJSON(msg, auto_unbox = TRUE, null = "null", digits = NA))
  writeLines(line, .hw$req, useBytes = TRUE)
  flush(.hw$req)
  if (msg$op %in% c("done", "error")) return(invisible(NULL))
  reply <- readLines(.hw$rep, n = 1L, encoding = "UTF-8")
  if (length(reply) == 0L) stop("headwater: the task's Python process went away", call. = FALSE)
  jsonlite::fromJSON(reply, simplifyVector = TRUE)
}

fetch_value <- function(reply, what) {
  if (!isTRUE(reply$ok)) {
    if (isTRUE(reply$missing)) return(structure(list(), class = "hw_missing"))
    stop(reply$error, call. = FALSE)
  }
  value <- hw_read_value(reply$path, reply$codec)
  unlink(reply$path)
  value
}

is_missing <- function(x) inherits(x, "hw_missing")

# --- self ---------------------------------------------------------------------------------

new_self <- function(task) {
  self <- new.env(parent = emptyenv())
  self$.assigned <- new.env(parent = emptyenv()) # what the step set
  self$.cache <- new.env(parent = emptyenv()) # what it read
  self$.task <- task
  class(self) <- "hw_self"
  self
}

self_get <- function(self, name) {
  assigned <- .subset2(self, ".assigned")
  if (exists(name, envir = assigned, inherits = FALSE)) return(get(name, envir = assigned))
  cache <- .subset2(self, ".cache")
  if (exists(name, envir = cache, inherits = FALSE)) return(get(name, envir = cache))
  task <- .subset2(self, ".task")
  if (identical(name, "index")) return(task$index)
  if (identical(name, "input")) {
    if (!isTRUE(task$has_input)) return(NULL)
    value <- fetch_value(request(op = "foreach_input"), "self$input")
  } else {
    value <- fetch_value(request(op = "get", name = name), paste0("self$", name))
    if (is_missing(value)) {
      stop(sprintf(
        "step '%s' has no artifact '%s': assign self$%s in this step or one before it",
        task$current$step_name, name, name
      ), call. = FALSE)
    }
  }
  assign(name, value, envir = cache)
  value
}

self_set <- function(self, name, value) {
  if (name %in% c("input", "index")) {
    stop(sprintf("self$%s is read-only: it is the foreach element of this task", name), call. = FALSE)
  }
  assign(name, value, envir = .subset2(self, ".assigned"))
  invisible(self)
}


`$.hw_self` <- function(x, name) self_get(x, name)

`[[.hw_self` <- function(x, i, ...) self_get(x, i)

`$<-.hw_self` <- function(x, name, value) self_set(x, name, value)

`[[<-.hw_self` <- function(x, i, value) self_set(x, i, value)

names.hw_self <- function(x) {
  sort(unique(c(unlist(.subset2(x, ".task")$names), ls(.subset2(x, ".assigned"), all.names = TRUE))))
}

print.hw_self <- function(x, ...) {
  cat("<headwater step ", .subset2(x, ".task")$current$pathspec, ": ",
    paste(names(x), collapse = ", "), ">\n", sep = "")
  invisible(x)
}

# --- join inputs ----------------------------------------------------------------------------

new_input <- function(i, info) {
  inp <- new.env(parent = emptyenv())
  inp$.i <- i - 1L
  inp$.info <- info
  inp$.cache <- new.env(parent = emptyenv())
  class(inp) <- "hw_input"
  inp
}

input_get <- function(inp, name) {
  cache <- .subset2(inp, ".cache")
  if (exists(name, envir = cache, inherits = FALSE)) return(get(name, envir = cache))
  info <- .subset2(inp, ".info")
  if (identical(name, "index")) return(info$index)
  value <- fetch_value(request(op = "input", i = .subset2(inp, ".i"), name = name), name)
  if (is_missing(value)) {
    stop(sprintf("the input from step '%s' has no artifact '%s'", info$step, name), call. = FALSE)
  }
  assign(name, value, envir = cache)
  value
}


`$.hw_input` <- function(x, name) input_get(x, name)

`[[.hw_input` <- function(x, i, ...) input_get(x, i)

names.hw_input <- function(x) unlist(.subset2(x, ".info")$names)

print.hw_input <- function(x, ...) {
  info <- .subset2(x, ".info")
  cat("<headwater input from ", info$step, "/", info$task, ">\n", sep = "")
  invisible(x)
}

make_inputs <- function(task) {
  infos <- task$inputs
  inputs <- lapply(seq_len(NROW(infos)), function(i) new_input(i, infos_row(infos, i)))
  if (!isTRUE(task$foreach_join)) names(inputs) <- vapply(inputs, function(x) .subset2(x, ".info")$step, "")
  inputs
}

infos_row <- function(infos, i) {
  if (is.data.frame(infos)) {
    row <- lapply(infos, function(col) col[[i]])
    return(row)
  }
  infos[[i]]
}

#' Values of one artifact in every input of a join
#'
#' @param inputs the join's inputs
#' @param input the artifact's name
#' @return a list, one value per input

gather_inputs <- function(inputs, input) {
  lapply(seq_along(inputs), function(i) inputs[[i]][[input]])
}

#' Copy to self the artifacts all inputs agree on
#'
#' @param flow the step's self
#' @param inputs the join's inputs
#' @param exclude names not to merge
#' @param include names to merge (all others are left)

merge_artifacts <- function(flow, inputs, exclude = list(), include = list()) {
  if (!in_task()) stop("merge_artifacts() works in a join step while it runs", call. = FALSE)
  flush_assigned(flow)
  reply <- request(
    op = "merge", exclude = I(as.character(unlist(exclude))), include = I(as.character(unlist(include)))
  )
  if (!isTRUE(reply$ok)) stop(reply$error, call. = FALSE)
  invisible(reply$names)
}

#' Facts about the running task
#'
#' @param value one of flow_name, run_id, step_name, task_id, retry_count, origin_run_id,
#'   pathspec, namespace, username, tags, parameter_names, is_running_flow

current <- function(value) {
  facts <- if (in_task()) .hw$task$current else list(is_running_flow = FALSE)
  if (missing(value)) return(facts)
  facts[[value]]
}

# --- running the step -----------------------------------------------------------------------

flush_assigned <- function(self) {
  assigned <- .subset2(self, ".assigned")
  for (name in ls(assigned, all.names = TRUE)) {
    path <- file.path(.hw$task$dir, paste0("put-", digest::digest(name, algo = "xxhash64")))
    info <- hw_write_value(get(name, envir = assigned), path)
    reply <- request(op = "put", name = name, codec = info$codec, type = info$type, path = path)
    if (!isTRUE(reply$ok)) stop(reply$error, call. = FALSE)
    assign(name, get(name, envir = assigned), envir = .subset2(self, ".cache"))
    rm(list = name, envir = assigned)
  }
}

step_function <- function(task) {
  if (!is.null(task$`function`)) {
    fn <- get0(task$`function`, envir = globalenv(), mode = "function")
    if (is.null(fn)) {
      stop(sprintf("%s defines no function '%s'", basename(task$source), task$`function`), call. = FALSE)
    }
    return(fn)
  }
  flow <- .hw$flow
  if (is.null(flow)) {
    stop(sprintf("%s did not call run() on its flow", basename(task$source)), call. = FALSE)
  }
  step <- flow$steps[[task$step]]
  if (is.null(step) || is.null(step$r_function)) {
    stop(sprintf("the flow in %s has no R function for step '%s'", basename(task$source), task$step), call. = FALSE)
  }
  step$r_function
}

format_calls <- function(calls, entry) {
  lines <- vapply(calls, function(call) {
    text <- paste(deparse(call, nlines = 1L, width.cutoff = 100L), collapse = "")
    ref <- attr(call, "srcref")
    if (!is.null(ref)) {
      file <- basename(utils::getSrcFilename(ref))
      if (length(file) == 1L && nzchar(file)) text <- sprintf("%s:%d: %s", file, ref[[1]], text)
    }
    paste0("  ", text)
  }, "")
  paste(c("R traceback (most recent call last):", entry, lines), collapse = "\n")
}

report_failure <- function(e, calls) {
  if (inherits(e, "packageNotFoundError")) {
    pkg <- e$package
    msg <- sprintf(
      "R package '%s' is not installed: install it (on Debian: apt-get install r-cran-%s) and run again",
      pkg, tolower(pkg)
    )
    request(op = "error", kind = "package", message = msg, traceback = "")
    return(invisible())
  }
  msg <- conditionMessage(e)
  entry <- sprintf("  step %s: %s", .hw$task$current$step_name, .hw$entry %||% "the script")
  request(op = "error", kind = "stop", message = msg, traceback = format_calls(calls, entry))
}

task_main <- function() {
  task <- jsonlite::fromJSON(Sys.getenv("HEADWATER_R_TASK"), simplifyVector = TRUE)
  .hw$task <- task
  .hw$mode <- "task"
  options(conflicts.policy = list(warn = FALSE)) # the script's library() calls say it once, at run
  .hw$req <- file(sprintf("/dev/fd/%d", task$request_fd), open = "wb", raw = TRUE)
  .hw$rep <- file(sprintf("/dev/fd/%d", task$reply_fd), open = "rb", raw = TRUE)
  calls <- NULL
  depth <- 0L
  ok <- tryCatch(
    withCallingHandlers(
      {
        sys.source(task$source, envir = globalenv(), keep.source = TRUE, toplevel.env = globalenv())
        fn <- step_function(task)
        .hw$entry <- entry_name(task)
        self <- new_self(task)
        depth <- sys.nframe()
        if (isTRUE(task$join)) fn(self, make_inputs(task)) else fn(self)
        flush_assigned(self)
        TRUE
      },
      error = function(e) {
        n <- sys.nframe() - 1L # this handler's caller is the last frame to look at
        ours <- asNamespace("headwater")
        keep <- list()
        for (k in seq_len(n)) {
          if (k <= depth + 1L) next # headwater's frames up to the step function's call
          if (identical(environment(sys.function(k)), ours)) next
          call <- sys.call(k)
          if (is_handler_call(call) || identical(call[[1]], quote(fn))) next
          keep[[length(keep) + 1L]] <- call
        }
        calls <<- keep
      }
    ),
    error = function(e) {
      report_failure(e, calls)
      FALSE
    }
  )
  if (isTRUE(ok)) request(op = "done")
  quit(save = "no", status = if (isTRUE(ok)) 0L else 1L)
}

`%||%` <- function(x, y) if (is.null(x)) y else x

entry_name <- function(task) {
  args <- if (isTRUE(task$join)) "(self, inputs)" else "(self)"
  if (!is.null(task$`function`)) return(paste0(task$`function`, args))
  name <- .hw$flow$steps[[task$step]]$function_name
  if (!is.null(name) && grepl("^[A-Za-z._][A-Za-z0-9._]*$", name)) paste0(name, args) else "its r_function"
}

is_handler_call <- function(call) {
  head <- call[[1]]
  is.name(head) && as.character(head) %in% c("withCallingHandlers", "tryCatch", "tryCatchList", "tryCatchOne", "doTryCatch", ".handleSimpleError")
}
