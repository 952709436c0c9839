# Reading results back: flow_client, run_client, step_client, task_client and mf_client, as in
# Metaflow's R package. Questions go to one Python helper per R session
# (python -m headwater.cli.r_helper, started with processx on first use), which reads
# headwater's stores; values come back as files in the neutral codec or as RDS.

helper <- function() {
  p <- .hw$helper
  if (is.null(p) || !p$is_alive()) {
    py <- headwater_python()
    p <- tryCatch(
      processx::process$new(py, c("-m", "headwater.cli.r_helper"),
        stdin = "|", stdout = "|", stderr = "|", cleanup = TRUE,
        env = c("current", LD_LIBRARY_PATH = python_ld_library_path())
      ),
      error = function(e) {
        stop(sprintf(
          "cannot start headwater's Python (%s): install headwater there, or set HEADWATER_PYTHON",
          py
        ), call. = FALSE)
      }
    )
    .hw$helper <- p
  }
  p
}

# Stop the helper: the next question starts a new one (with the environment as it is then).
reset_helper <- function() {
  p <- .hw$helper
  .hw$helper <- NULL
  if (!is.null(p) && p$is_alive()) p$kill()
  invisible(NULL)
}

ask <- function(op, ...) {
  p <- helper()
  line <- as.character(jsonlite::toJSON(list(op = op, ...), auto_unbox = TRUE, null = "null"))
  p$write_input(paste0(line, "\n"))
  repeat {
    out <- p$read_output_lines(n = 1L)
    if (length(out)) break
    if (!p$is_alive()) {
      err <- paste(p$read_all_error_lines(), collapse = "\n")
      .hw$helper <- NULL
      stop("headwater's Python helper stopped: ", err, call. = FALSE)
    }
    p$poll_io(1000L)
  }
  reply <- jsonlite::fromJSON(out, simplifyVector = TRUE)
  if (!isTRUE(reply$ok)) stop(reply$error, call. = FALSE)
  reply$value
}

fetch_artifact <- function(pathspec, name) {
  path <- tempfile("hw-artifact-")
  on.exit(unlink(path))
  codec <- ask("artifact", pathspec = pathspec, name = name, path = path)
  hw_read_value(path, codec)
}

or_null <- function(x) if (is.null(x) || length(x) == 0L) NULL else x

as_time <- function(x) if (is.null(x)) NULL else as.POSIXct(x, tz = "UTC")

hw_object <- R6::R6Class("hw_object",
  public = list(
    initialize = function(pathspec) {
      private$info <- ask("describe", pathspec = pathspec)
    },
    get_values = function() unlist(private$info$children),
    is_in_namespace = function() TRUE,
    print = function(...) {
      cat("<", private$info$kind, " ", private$info$pathspec, ">\n", sep = "")
      invisible(self)
    }
  ),
  private = list(info = NULL),
  active = list(
    id = function() private$info$id,
    pathspec = function() private$info$pathspec,
    parent = function() or_null(private$info$parent),
    tags = function() unlist(private$info$tags),
    created_at = function() as_time(private$info$created_at),
    finished_at = function() as_time(private$info$finished_at)
  )
)

summary_lines <- function(title, fields) {
  cat(title, "\n", sep = "")
  for (n in names(fields)) cat(sprintf("    %-24s%s\n", paste0(n, ":"), paste(format(fields[[n]]), collapse = ", ")))
  invisible(NULL)
}

#' A flow's runs
#'
#' `flow_client$new("Flow")`: `$runs`, `$latest_run`, `$latest_successful_run`, `$run(id)`,
#' `$runs_with_tags(...)`, `$summary()`.
#' @export
flow_client <- R6::R6Class("FlowClient",
  inherit = hw_object,
  public = list(
    initialize = function(flow_id) super$initialize(flow_id),
    run = function(run_id) run_client$new(self, run_id),
    runs_with_tags = function(...) {
      ids <- ask("runs", flow = self$id, tags = I(c(...)))
      lapply(ids, function(id) run_client$new(self, id))
    },
    summary = function() {
      summary_lines(paste("Flow", self$id), list(
        "Created at" = self$created_at, "Latest run" = self$latest_run,
        "Latest successful run" = self$latest_successful_run, "Runs" = length(self$runs)
      ))
    }
  ),
  active = list(
    latest_run = function() or_null(private$info$latest_run),
    latest_successful_run = function() or_null(private$info$latest_successful_run),
    runs = function() unlist(private$info$children)
  )
)

parent_path <- function(parent, id) {
  if (is.character(parent)) return(paste(parent, id, sep = "/"))
  paste(parent$pathspec, id, sep = "/")
}

#' One run
#'
#' `run_client$new(flow, run_id)` or `run_client$new("Flow/12")`; `run_id` may be
#' "latest_run" or "latest_successful_run". `$artifact(name)` reads an artifact of its end
#' step, `$artifacts` names them; `$steps`, `$step(id)`, `$successful`, `$finished`,
#' `$finished_at`, `$end_task`, `$summary()`.
#' @export
run_client <- R6::R6Class("RunClient",
  inherit = hw_object,
  public = list(
    initialize = function(...) {
      args <- list(...)
      if (length(args) == 1L) return(super$initialize(args[[1]]))
      flow <- args[[1]]
      run_id <- as.character(args[[2]])
      if (inherits(flow, "FlowClient") && run_id %in% c("latest_run", "latest_successful_run")) {
        run_id <- flow[[run_id]]
        if (is.null(run_id)) stop(sprintf("flow %s has no %s", flow$id, args[[2]]), call. = FALSE)
      }
      super$initialize(parent_path(flow, run_id))
    },
    step = function(step_id) step_client$new(self, step_id),
    artifact = function(name) fetch_artifact(self$pathspec, name),
    summary = function() {
      summary_lines(paste("Run", self$pathspec), list(
        "Successful" = self$successful, "Created at" = self$created_at,
        "Finished at" = self$finished_at, "Steps" = self$steps
      ))
    }
  ),
  active = list(
    finished = function() isTRUE(private$info$finished),
    successful = function() isTRUE(private$info$successful),
    steps = function() unlist(private$info$children),
    end_task = function() or_null(private$info$end_task),
    artifacts = function() unlist(private$info$artifacts)
  )
)

#' One step of a run
#'
#' `step_client$new(run, step_id)` or `step_client$new("Flow/12/start")`: `$tasks`,
#' `$a_task`, `$task(id)`, `$summary()`.
#' @export
step_client <- R6::R6Class("StepClient",
  inherit = hw_object,
  public = list(
    initialize = function(...) {
      args <- list(...)
      if (length(args) == 1L) return(super$initialize(args[[1]]))
      super$initialize(parent_path(args[[1]], args[[2]]))
    },
    task = function(task_id) task_client$new(self, task_id),
    summary = function() {
      summary_lines(paste("Step", self$pathspec), list(
        "Tasks" = length(self$tasks), "Created at" = self$created_at, "Finished at" = self$finished_at
      ))
    }
  ),
  active = list(
    tasks = function() unlist(private$info$children),
    a_task = function() or_null(unlist(private$info$children)[1])
  )
)

#' One task
#'
#' `task_client$new(step, task_id)` or `task_client$new("Flow/12/start/t-1b53...")`:
#' `$artifact(name)`, `$artifacts`, `$stdout`, `$stderr`, `$successful`, `$finished`,
#' `$finished_at`, `$exception`, `$index`, `$summary()`.
#' @export
task_client <- R6::R6Class("TaskClient",
  inherit = hw_object,
  public = list(
    initialize = function(...) {
      args <- list(...)
      if (length(args) == 1L) return(super$initialize(args[[1]]))
      super$initialize(parent_path(args[[1]], args[[2]]))
    },
    artifact = function(name) fetch_artifact(self$pathspec, name),
    summary = function() {
      summary_lines(paste("Task", self$pathspec), list(
        "Successful" = self$successful, "Created at" = self$created_at,
        "Finished at" = self$finished_at, "Artifacts" = self$artifacts
      ))
    }
  ),
  active = list(
    finished = function() isTRUE(private$info$finished),
    successful = function() isTRUE(private$info$successful),
    exception = function() or_null(private$info$exception),
    index = function() or_null(private$info$index),
    artifacts = function() unlist(private$info$artifacts),
    runtime_name = function() or_null(private$info$runtime_name),
    stdout = function() ask("log", pathspec = self$pathspec, stream = "stdout"),
    stderr = function() ask("log", pathspec = self$pathspec, stream = "stderr")
  )
)

#' A factory of client objects
#'
#' `mf_client$new()`: `$flow(id)`, `$run(flow, id)`, `$step(run, id)`, `$task(step, id)`.
#' @export
mf_client <- R6::R6Class("MetaflowClient",
  public = list(
    flow = function(flow_id) flow_client$new(flow_id),
    run = function(flow_client, run_id) run_client$new(flow_client, run_id),
    step = function(run_client, step_id) step_client$new(run_client, step_id),
    task = function(step_client, task_id) task_client$new(step_client, task_id)
  )
)

#' The names of every flow
#' @export
list_flows <- function() unlist(ask("flows"))

#' Which runs the client sees
#'
#' `set_namespace("user:ana")`, `set_namespace(NULL)` (every run); `get_namespace()`;
#' `set_default_namespace()` (back to `user:<you>`).
#' @param ns a namespace (a tag), or NULL for every run
#' @export
set_namespace <- function(ns = NULL) invisible(ask("namespace", ns = ns))

#' @rdname set_namespace
#' @export
get_namespace <- function() or_null(ask("get_namespace"))

#' @rdname set_namespace
#' @export
set_default_namespace <- function() invisible(ask("default_namespace"))

#' Where the client reads runs from
#' @export
get_metadata <- function() ask("metadata")
