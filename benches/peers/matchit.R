# Peer of `swp-eval match --table FILE --treatment treat --covariates x1,..,x8 --caliper 0.2`:
# the logistic propensity model, 1:1 nearest-neighbour matching with a 0.2 SD caliper and the
# balance table, as an evaluator writes it with MatchIt (and cobalt's bal.tab when installed).
# Usage: Rscript matchit.R FILE.csv [check]
# Prints one JSON object: seconds (model + matching + balance; reading the file and loading the
# packages excluded), n, and each covariate's balance before matching.
# With `check`, matching goes through MatchIt's distance-matrix path instead (4.5.1's vector path
# ignores calipers under 1 on Linux, its bug #163; the matrix path has no such bug but needs
# n_treated x n_control doubles, so it is the check at small sizes, not the timed run), and the
# matched counts and balance after matching are printed too.
suppressPackageStartupMessages(library(MatchIt))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
check <- length(args) > 1 && args[2] == "check"
f <- treat ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8
has_cobalt <- requireNamespace("cobalt", quietly = TRUE)
elapsed <- system.time({
  if (check) {
    ps <- glm(f, data = data, family = binomial())$fitted.values
    treated <- which(data$treat == 1)
    control <- which(data$treat == 0)
    # MatchIt's default order: largest propensity score first
    order_t <- treated[order(ps[treated], decreasing = TRUE)]
    d <- abs(outer(ps[order_t], ps[control], "-"))
    dimnames(d) <- list(as.character(order_t), as.character(control))
    perm <- c(order_t, control)
    m <- matchit(f, data = data[perm, ], method = "nearest", distance = d,
                 caliper = 0.2 * sd(ps), std.caliper = FALSE)
    m$distance <- ps[perm]
  } else {
    m <- matchit(f, data = data, method = "nearest", caliper = 0.2)
  }
  s <- summary(m, un = TRUE)
  if (has_cobalt) b <- cobalt::bal.tab(m, un = TRUE)
})[["elapsed"]]
before <- s$sum.all
after <- s$sum.matched
rows <- lapply(rownames(before), function(v) {
  r <- list(covariate = v, mean_treated = before[v, "Means Treated"],
            mean_control_before = before[v, "Means Control"], smd_before = before[v, "Std. Mean Diff."])
  if (check) r$smd_after <- after[v, "Std. Mean Diff."]
  r
})
out <- list(seconds = unname(elapsed), cobalt = has_cobalt,
            n = list(treated = sum(data$treat == 1), control = sum(data$treat == 0),
                     matched_treated = unname(s$nn["Matched", "Treated"]),
                     matched_control = unname(s$nn["Matched", "Control"])),
            balance = rows)
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
