# R code for needs_pkg.py: it needs a package that is not installed.
library(notinstalledpkg42)

start_r <- function(self) self$x <- 1
