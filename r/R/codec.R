# The neutral codec in R: values to files and back. The layout (a JSON header naming typed
# nodes, then little-endian buffers) is described in headwater's Python module
# headwater/serde/neutral_format.py; Python reads the same files with numpy.

align8 <- function(n) ceiling(n / 8) * 8

# --- encoding -------------------------------------------------------------------------------

new_writer <- function() {
  w <- new.env(parent = emptyenv())
  w$size <- 0
  w$jobs <- list()
  w
}

add_buffer <- function(w, kind, data, nbytes) {
  offset <- w$size
  w$jobs[[length(w$jobs) + 1L]] <- list(kind = kind, data = data, nbytes = nbytes)
  w$size <- align8(w$size + nbytes)
  c(offset, nbytes)
}

only_attributes <- function(x, allowed) {
  all(names(attributes(x)) %in% allowed)
}

vector_node <- function(t, x, w) {
  n <- length(x)
  node <- list(t = t, n = n)
  if (n == 0L) {
    return(node)
  }
  if (t %in% c("lgl", "int", "fct")) {
    node$b <- add_buffer(w, "i4", as.integer(unclass(x)), 4 * n)
  } else if (t %in% c("dbl", "date", "time")) {
    node$b <- add_buffer(w, "f8", as.double(unclass(x)), 8 * n)
  } else if (t == "raw") {
    node$b <- add_buffer(w, "u1", as.vector(x), n)
  } else if (t == "chr") {
    x <- as.vector(x)
    sample <- x[seq.int(1L, n, length.out = min(n, 10000L))]
    if (n >= 64L && 2L * length(unique(sample)) <= length(sample)) {
      # few distinct strings: a dictionary and int32 codes (-1: NA), which Python reads fast
      u <- unique(x)
      u <- u[!is.na(u)]
      if (2L * length(u) <= n) {
        codes <- match(x, u) - 1L
        codes[is.na(codes)] <- -1L
        node$codes <- add_buffer(w, "i4", codes, 4 * n)
        node$dict <- vector_node("chr", u, w)
        return(node)
      }
    }
    na <- is.na(x)
    if (any(na)) {
      x[na] <- ""
      node$na <- add_buffer(w, "u1", as.raw(na), n)
    }
    x <- enc2utf8(x)
    node$b <- add_buffer(w, "str", x, sum(nchar(x, type = "bytes")) + n)
  }
  node
}

chr_node <- function(x, w) vector_node("chr", as.character(x), w)

atomic_type <- function(x) {
  switch(typeof(x),
    logical = "lgl", integer = "int", double = "dbl", character = "chr", raw = "raw", NULL
  )
}

with_vector_attributes <- function(node, x, w) {
  if (!is.null(names(x))) node$names <- chr_node(names(x), w)
  d <- dim(x)
  if (!is.null(d)) {
    node$dim <- I(as.integer(d))
    dn <- dimnames(x)
    if (!is.null(dn)) {
      if (!is.null(names(dn))) return(NULL)
      node$dimnames <- lapply(dn, function(names) if (is.null(names)) NULL else chr_node(names, w))
    }
  }
  node
}

rds_node <- function(x, w) {
  bytes <- serialize(x, NULL)
  list(t = "rds", b = add_buffer(w, "u1", bytes, length(bytes)), class = I(class(x)))
}

# A node for x, or NULL when the neutral codec cannot hold it exactly (the caller stores RDS).
neutral_node <- function(x, w) {
  if (is.null(x)) return(list(t = "null"))
  if (isS4(x) || is.environment(x) || is.function(x)) return(NULL)
  if (is.data.frame(x)) return(frame_node(x, w))
  if (is.factor(x)) {
    if (!only_attributes(x, c("levels", "class", "names"))) return(NULL)
    cls <- class(x)
    if (!identical(cls, "factor") && !identical(cls, c("ordered", "factor"))) return(NULL)
    node <- vector_node("fct", x, w)
    node$levels <- chr_node(levels(x), w)
    node$ordered <- is.ordered(x)
    if (!is.null(names(x))) node$names <- chr_node(names(x), w)
    return(node)
  }
  if (inherits(x, "Date")) {
    if (!identical(class(x), "Date") || !only_attributes(x, c("class", "names"))) return(NULL)
    node <- vector_node("date", x, w)
    if (!is.null(names(x))) node$names <- chr_node(names(x), w)
    return(node)
  }
  if (inherits(x, "POSIXct")) {
    if (!identical(class(x), c("POSIXct", "POSIXt"))) return(NULL)
    if (!only_attributes(x, c("class", "tzone", "names"))) return(NULL)
    node <- vector_node("time", x, w)
    tz <- attr(x, "tzone")
    node$tz <- if (is.null(tz)) "" else tz[[1]]
    if (!is.null(names(x))) node$names <- chr_node(names(x), w)
    return(node)
  }
  if (is.list(x)) {
    if (!only_attributes(x, "names")) return(NULL)
    nms <- names(x)
    if (!is.null(nms) && (anyNA(nms) || any(nms == "") || anyDuplicated(nms))) return(NULL)
    items <- vector("list", length(x))
    for (i in seq_along(x)) {
      item <- neutral_node(x[[i]], w)
      items[[i]] <- if (is.null(item)) rds_node(x[[i]], w) else item
    }
    node <- list(t = "list", items = items)
    if (!is.null(nms)) node$names <- chr_node(nms, w)
    return(node)
  }
  t <- atomic_type(x)
  if (is.null(t) || !only_attributes(x, c("names", "dim", "dimnames"))) return(NULL)
  with_vector_attributes(vector_node(t, x, w), x, w)
}

frame_node <- function(x, w) {
  cls <- class(x)
  if (!all(cls %in% c("tbl_df", "tbl", "data.frame"))) return(NULL)
  if (!only_attributes(x, c("names", "row.names", "class"))) return(NULL)
  items <- vector("list", length(x))
  for (i in seq_along(x)) {
    col <- x[[i]]
    if (!is.null(dim(col)) || is.data.frame(col)) return(NULL)
    if (is.list(col) && !is.object(col)) {
      if (!only_attributes(col, character(0))) return(NULL)
      node <- neutral_node(col, w)
    } else {
      if (!is.null(names(col))) names(col) <- NULL
      node <- neutral_node(col, w)
    }
    if (is.null(node)) return(NULL)
    items[[i]] <- node
  }
  node <- list(t = "df", items = items, names = chr_node(names(x), w), nrow = nrow(x))
  info <- .row_names_info(x, type = 1L)
  if (info > 0L || !is.integer(attr(x, "row.names"))) {
    rn <- attr(x, "row.names")
    node$rownames <- if (is.integer(rn)) vector_node("int", rn, w) else chr_node(rn, w)
  }
  if (!identical(cls, "data.frame")) node$class <- I(cls)
  node
}

write_buffers <- function(con, w) {
  for (job in w$jobs) {
    switch(job$kind,
      i4 = writeBin(job$data, con, size = 4L, endian = "little"),
      f8 = writeBin(job$data, con, size = 8L, endian = "little"),
      u1 = writeBin(job$data, con),
      str = writeBin(job$data, con, useBytes = TRUE)
    )
    pad <- align8(job$nbytes) - job$nbytes
    if (pad > 0) writeBin(raw(pad), con)
  }
}

# Write x to path: in the neutral codec when it holds x exactly, else as RDS. Returns the codec
# ("neutral" or "rds") and the type name listings show.
hw_write_value <- function(x, path) {
  w <- new_writer()
  root <- neutral_node(x, w)
  if (is.null(root)) {
    con <- file(path, "wb")
    on.exit(close(con))
    serialize(x, con)
    return(list(codec = "rds", type = paste0("R.", class(x)[[1]])))
  }
  header <- charToRaw(enc2utf8(as.character(
    jsonlite::toJSON(root, auto_unbox = TRUE, digits = NA, null = "null")
  )))
  con <- file(path, "wb")
  on.exit(close(con))
  writeBin(c(charToRaw("HWNC"), as.raw(c(1L, 0L, 0L, 0L))), con)
  writeBin(length(header), con, size = 4L, endian = "little")
  writeBin(header, con)
  pad <- align8(12 + length(header)) - (12 + length(header))
  if (pad > 0) writeBin(raw(pad), con)
  write_buffers(con, w)
  list(codec = "neutral", type = paste0("R.", r_type_name(x)))
}

r_type_name <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.data.frame(x)) return(class(x)[[1]])
  if (is.factor(x) || inherits(x, "Date") || inherits(x, "POSIXct")) return(class(x)[[1]])
  if (!is.null(dim(x)) && length(dim(x)) == 2L) return("matrix")
  if (!is.null(dim(x))) return("array")
  if (is.list(x)) return("list")
  mode <- typeof(x)
  if (mode == "double") "numeric" else mode
}

# --- decoding -------------------------------------------------------------------------------

read_buffer <- function(con, start, b, what, n, size) {
  seek(con, start + b[[1]])
  readBin(con, what, n, size = size, endian = "little")
}

# n NUL-terminated UTF-8 strings. Byte 0xFF never occurs in UTF-8, so the NULs become 0xFF and
# one strsplit cuts the whole buffer (readBin(what = "character") reads byte by byte).
read_strings <- function(con, start, b, n) {
  seek(con, start + b[[1]])
  buf <- readBin(con, "raw", b[[2]])
  ascii <- !any(buf > as.raw(0x7f))
  buf[buf == as.raw(0L)] <- as.raw(0xff)
  s <- strsplit(rawToChar(buf), "\xff", fixed = TRUE, useBytes = TRUE)[[1]]
  if (length(s) != n) { # cannot happen for well-formed data; read the slow way
    seek(con, start + b[[1]])
    s <- readBin(con, "character", n)
    ascii <- FALSE
  }
  if (!ascii) Encoding(s) <- "UTF-8"
  s
}

decode_node <- function(node, con, start) {
  t <- node$t
  n <- node$n
  if (t == "null") return(NULL)
  if (t == "list") {
    items <- lapply(node$items, decode_node, con = con, start = start)
    if (!is.null(node$names)) names(items) <- decode_node(node$names, con, start)
    return(items)
  }
  if (t == "df") return(decode_frame(node, con, start))
  if (t == "rds") {
    b <- unlist(node$b)
    return(unserialize(read_buffer(con, start, b, "raw", b[[2]], 1L)))
  }
  x <- if (n == 0L) {
    switch(t,
      lgl = logical(0), int = , fct = integer(0), dbl = , date = , time = double(0),
      chr = character(0), raw = raw(0)
    )
  } else {
    b <- unlist(node$b)
    switch(t,
      lgl = as.logical(read_buffer(con, start, b, "integer", n, 4L)),
      int = , fct = read_buffer(con, start, b, "integer", n, 4L),
      dbl = , date = , time = read_buffer(con, start, b, "double", n, 8L),
      raw = read_buffer(con, start, b, "raw", n, 1L),
      chr = if (!is.null(node$codes)) {
        dict <- decode_node(node$dict, con, start)
        codes <- read_buffer(con, start, unlist(node$codes), "integer", n, 4L)
        codes[codes < 0L] <- NA_integer_
        dict[codes + 1L]
      } else {
        s <- read_strings(con, start, b, n)
        if (!is.null(node$na)) {
          na <- read_buffer(con, start, unlist(node$na), "raw", n, 1L)
          s[as.logical(na)] <- NA_character_
        }
        s
      },
      stop("headwater: unknown neutral vector type ", t, call. = FALSE)
    )
  }
  if (t == "fct") {
    levels <- decode_node(node$levels, con, start)
    x <- structure(x, levels = levels, class = if (isTRUE(node$ordered)) c("ordered", "factor") else "factor")
  } else if (t == "date") {
    x <- structure(x, class = "Date")
  } else if (t == "time") {
    x <- structure(x, class = c("POSIXct", "POSIXt"))
    if (!is.null(node$tz)) attr(x, "tzone") <- node$tz
  }
  if (!is.null(node$names)) names(x) <- decode_node(node$names, con, start)
  if (!is.null(node$dim)) {
    dim(x) <- as.integer(unlist(node$dim))
    if (!is.null(node$dimnames)) {
      dimnames(x) <- lapply(node$dimnames, function(d) if (is.null(d)) NULL else decode_node(d, con, start))
    }
  }
  x
}

decode_frame <- function(node, con, start) {
  cols <- lapply(node$items, decode_node, con = con, start = start)
  names(cols) <- if (is.null(node$names)) character(0) else decode_node(node$names, con, start)
  nrow <- as.integer(node$nrow)
  rn <- if (is.null(node$rownames)) .set_row_names(nrow) else decode_node(node$rownames, con, start)
  cls <- if (is.null(node$class)) "data.frame" else unlist(node$class)
  structure(cols, row.names = rn, class = cls)
}

# The value in the file at path, written in codec "neutral" or "rds".
hw_read_value <- function(path, codec = "neutral") {
  if (codec == "rds") return(readRDS(path))
  con <- file(path, "rb")
  on.exit(close(con))
  head <- readBin(con, "raw", 8L)
  if (length(head) < 8L || !identical(head[1:4], charToRaw("HWNC"))) {
    stop("headwater: ", path, " is not a neutral value", call. = FALSE)
  }
  if (as.integer(head[[5]]) > 1L) {
    stop("headwater: this value was written by a newer headwater: upgrade the R package", call. = FALSE)
  }
  hlen <- readBin(con, "integer", 1L, size = 4L, endian = "little")
  header <- rawToChar(readBin(con, "raw", hlen))
  Encoding(header) <- "UTF-8"
  root <- jsonlite::fromJSON(header, simplifyVector = FALSE)
  decode_node(root, con, align8(12 + hlen))
}
