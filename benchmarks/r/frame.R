# The R half of the r_frame1m scenario. `Rscript frame.R write PATH`: build the frame, time
# writing it for Python; `Rscript frame.R read PATH`: time reading what Python wrote; both also
# time saveRDS/readRDS of the same frame. Prints one JSON line of seconds.
suppressPackageStartupMessages(library(headwater))
args <- commandArgs(TRUE)

make_frame <- function(n = 1e6) {
  set.seed(1)
  with_na <- function(x, p = 0.05) {
    x[sample(length(x), length(x) * p)] <- NA
    x
  }
  words <- c("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")
  data.frame(
    price = with_na(runif(n) * 100),
    volume = with_na(rnorm(n)),
    score = runif(n),
    ratio = with_na(rexp(n)),
    count = with_na(sample.int(1000L, n, replace = TRUE)),
    year = sample(1990:2024, n, replace = TRUE),
    name = with_na(paste0(sample(words, n, replace = TRUE), "-", sample.int(500L, n, replace = TRUE))),
    code = with_na(sprintf("%06d", sample.int(999999L, n, replace = TRUE))),
    kind = with_na(factor(sample(words, n, replace = TRUE))),
    grade = factor(sample(c("low", "mid", "high"), n, replace = TRUE), levels = c("low", "mid", "high"), ordered = TRUE),
    stringsAsFactors = FALSE
  )
}

cpu <- list()
seconds <- function(expr) {
  t0 <- proc.time()
  force(expr)
  t1 <- proc.time()
  cpu[[length(cpu) + 1L]] <<- (t1[["user.self"]] + t1[["sys.self"]]) - (t0[["user.self"]] + t0[["sys.self"]])
  t1[["elapsed"]] - t0[["elapsed"]]
}

path <- args[[2]]
out <- list()
if (args[[1]] == "write") {
  df <- make_frame()
  out$r_write_s <- seconds(headwater:::hw_write_value(df, path))
  out$r_write_cpu_s <- cpu[[1]]
  rds <- tempfile(fileext = ".rds")
  out$saveRDS_s <- seconds(saveRDS(df, rds))
  out$readRDS_s <- seconds(readRDS(rds))
  out$readRDS_cpu_s <- cpu[[3]]
  raw_rds <- tempfile(fileext = ".rds")
  out$saveRDS_uncompressed_s <- seconds(saveRDS(df, raw_rds, compress = FALSE))
  out$readRDS_uncompressed_s <- seconds(readRDS(raw_rds))
  out$neutral_mb <- file.size(path) / 2^20
  out$rds_mb <- file.size(rds) / 2^20
  unlink(c(rds, raw_rds))
} else {
  out$r_read_s <- seconds(df <- headwater:::hw_read_value(path))
  out$r_read_cpu_s <- cpu[[1]]
  stopifnot(identical(df, make_frame()))
}
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
