# The MatchIt side of `match-bench`: 1:1 nearest-neighbour matching with a 0.2 caliper on a
# logistic propensity score of 8 covariates, the model and the balance table included.
# Usage: Rscript matchit_bench.R FILE.csv   (prints the elapsed seconds)
suppressPackageStartupMessages(library(MatchIt))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
f <- treat ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8
elapsed <- system.time({
  m <- matchit(f, data = data, method = "nearest", caliper = 0.2)
  s <- summary(m)
})[["elapsed"]]
cat(sprintf("{\"seconds\":%.3f,\"matched_treated\":%d}\n", elapsed, s$nn["Matched", "Treated"]))
