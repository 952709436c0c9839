library(testthat)
library(headwater)
test_check("headwater")
