# Reference values for swp-stats (issue 5): R glm and MatchIt 4.5.1 on the Lalonde data that
# ships with MatchIt and on generated data. Run from this directory:
#   Rscript matchit.R
# Writes lalonde.csv, generated.csv and one JSON file per case. R 4.2.2 (Debian 12),
# MatchIt 4.5.1, jsonlite (Debian packages r-base-core, r-cran-matchit).
suppressPackageStartupMessages({ library(MatchIt); library(jsonlite) })
options(digits = 17)

data("lalonde", package = "MatchIt")
lalonde <- data.frame(lalonde)
write.csv(lalonde[, c("treat", "age", "educ", "race", "married", "nodegree", "re74", "re75", "re78")],
          "lalonde.csv", row.names = FALSE, quote = FALSE)

# Generated: 1,200 units, about 1 in 4 treated, a text covariate with 3 levels, a count outcome
# with exposure; values rounded so the CSV round-trips exactly.
set.seed(20091109)
n <- 1200
x1 <- round(rnorm(n), 4)
x2 <- round(runif(n, 0, 10), 3)
grp <- sample(c("north", "south", "west"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
flag <- rbinom(n, 1, 0.4)
lp <- -1.3 + 0.6 * x1 + 0.08 * x2 + 0.5 * (grp == "south") - 0.4 * flag
treat <- rbinom(n, 1, plogis(lp))
exposure <- round(runif(n, 0.2, 2), 3)
count <- rpois(n, exposure * exp(-0.5 + 0.3 * x1 - 0.4 * treat + 0.2 * flag))
generated <- data.frame(treat, x1, x2, grp, flag, exposure, count)
write.csv(generated, "generated.csv", row.names = FALSE, quote = FALSE)

glm_out <- function(fit) {
  s <- summary(fit)$coefficients
  list(names = rownames(s), coef = unname(s[, 1]), se = unname(s[, 2]),
       deviance = fit$deviance, iterations = fit$iter)
}
f_lal <- treat ~ age + educ + race + married + nodegree + re74 + re75
f_gen <- treat ~ x1 + x2 + grp + flag
glms <- list(
  lalonde_logit = glm_out(glm(f_lal, data = lalonde, family = binomial("logit"))),
  lalonde_probit = glm_out(glm(f_lal, data = lalonde, family = binomial("probit"))),
  generated_logit = glm_out(glm(f_gen, data = generated, family = binomial("logit"))),
  generated_poisson = glm_out(glm(count ~ x1 + treat + flag + offset(log(exposure)),
                                  data = generated, family = poisson()))
)
write_json(glms, "glm.json", digits = NA, auto_unbox = TRUE)

summary_out <- function(m) {
  s <- summary(m, un = TRUE)
  tab <- function(x) lapply(seq_len(nrow(x)), function(i) {
    r <- as.list(x[i, ]); r$covariate <- rownames(x)[i]; r })
  list(all = tab(s$sum.all), matched = if (!is.null(s$sum.matched)) tab(s$sum.matched),
       nn = lapply(seq_len(nrow(s$nn)), function(i) {
         r <- as.list(s$nn[i, ]); names(r) <- c("control", "treated"); r$row <- rownames(s$nn)[i]; r }))
}
case <- function(name, data, ...) {
  m <- matchit(..., data = data)
  mm <- m$match.matrix
  mm_num <- if (!is.null(mm)) {
    apply(mm, c(1, 2), function(v) if (is.na(v)) NA_integer_ else match(v, rownames(data)))
  }
  out <- list(
    args = lapply(list(...)[-1], function(a) if (inherits(a, "formula")) deparse(a) else a),
    distance = if (!is.null(m$distance)) unname(m$distance),
    match_matrix = if (!is.null(mm)) lapply(seq_len(nrow(mm_num)), function(i) unname(mm_num[i, ])),
    match_rows = if (!is.null(mm)) match(rownames(mm), rownames(data)),
    weights = unname(m$weights),
    subclass = if (!is.null(m$subclass)) unname(as.integer(as.character(m$subclass))),
    caliper = if (!is.null(m$caliper)) unname(m$caliper),
    summary = summary_out(m)
  )
  write_json(out, paste0(name, ".json"), digits = NA, auto_unbox = TRUE, na = "null", null = "null")
}
# Nearest neighbour on a propensity score. MatchIt 4.5.1 (Debian's) has two bugs in this path,
# both fixed upstream in 4.5.2/4.5.3: on Linux its C++ `abs()` resolves to the integer
# overload, so it always takes the closest available control *below* the treated unit's score
# and calipers under 1 never bite ("calipers would not work properly on some systems", #163);
# and with replace = TRUE and ratio > 1 it matches the same control several times to one
# treated unit (#159). swp-stats implements the fixed behaviour. The reference for it comes from
# MatchIt 4.5.1's other nearest-neighbour path, which has neither bug: the propensity distance
# is given as a treated x control matrix |ps_t - ps_c| (with the caliper in distance units,
# std.caliper = FALSE), and the rows are put in m.order first, since that path matches in data
# order. Results are mapped back to the original rows. On an exact tie in distance this path
# takes the first control in (that) data order, where the vector path takes the one below.
case_ps <- function(name, data, f, link = "logit", caliper = NULL, ratio = 1, replace = FALSE,
                    m.order = "largest", exact = NULL) {
  fam <- binomial(if (link == "linear.logit") "logit" else link)
  fit <- glm(f, data = data, family = fam)
  d <- if (link == "linear.logit") unname(predict(fit)) else unname(fitted(fit))
  perm <- switch(m.order, largest = order(d, decreasing = TRUE), smallest = order(d),
                 data = seq_along(d))
  if (replace) perm <- seq_along(d)  # with replacement MatchIt matches in data order
  dp <- data[perm, ]; dd <- d[perm]; rownames(dp) <- NULL
  dp$distance <- dd
  tr <- dp$treat
  D <- abs(outer(dd[tr == 1], dd[tr == 0], "-"))
  cal <- if (!is.null(caliper)) c(caliper * sd(d))
  args <- list(f, data = dp, method = "nearest", distance = D, ratio = ratio, replace = replace)
  if (!is.null(cal)) { args$caliper <- cal; args$std.caliper <- FALSE }
  if (!is.null(exact)) args$exact <- exact
  m <- do.call(matchit, args)
  back <- order(perm)  # original row i is row back[i] of dp
  mm <- m$match.matrix
  mm_num <- apply(mm, c(1, 2), function(v) if (is.na(v)) NA_integer_ else perm[as.integer(v)])
  rows <- perm[as.integer(rownames(mm))]
  o <- order(rows)
  s <- summary(m, un = TRUE, addlvariables = "distance", data = dp)
  tab <- function(x) {
    x <- x[c(nrow(x), seq_len(nrow(x) - 1)), , drop = FALSE]  # distance first
    lapply(seq_len(nrow(x)), function(i) { r <- as.list(x[i, ]); r$covariate <- rownames(x)[i]; r })
  }
  out <- list(
    args = list(method = "nearest", link = link, caliper = caliper, ratio = ratio,
                replace = replace, m.order = m.order,
                exact = if (!is.null(exact)) deparse(exact)),
    distance = d,
    match_matrix = lapply(o, function(i) unname(mm_num[i, ])),
    match_rows = rows[o],
    weights = unname(m$weights[back]),
    subclass = if (!is.null(m$subclass)) unname(as.integer(as.character(m$subclass)))[back],
    subclass_ids_permuted = TRUE,
    caliper = cal,
    summary = list(all = tab(s$sum.all), matched = tab(s$sum.matched),
                   nn = lapply(seq_len(nrow(s$nn)), function(i) {
                     r <- as.list(s$nn[i, ]); names(r) <- c("control", "treated")
                     r$row <- rownames(s$nn)[i]; r }))
  )
  write_json(out, paste0(name, ".json"), digits = NA, auto_unbox = TRUE, na = "null", null = "null")
}
for (d in list(list("lalonde", lalonde, f_lal), list("generated", generated, f_gen))) {
  nm <- d[[1]]; data <- d[[2]]; f <- d[[3]]
  case_ps(paste0(nm, "_nearest"), data, f)
  case_ps(paste0(nm, "_nearest_smallest"), data, f, m.order = "smallest")
  case_ps(paste0(nm, "_nearest_data"), data, f, m.order = "data")
  case_ps(paste0(nm, "_nearest_caliper_logit"), data, f, link = "linear.logit", caliper = 0.2)
  case_ps(paste0(nm, "_nearest_caliper_prob"), data, f, caliper = 0.1)
  case_ps(paste0(nm, "_nearest_ratio2_replace"), data, f, ratio = 2, replace = TRUE)
  case_ps(paste0(nm, "_nearest_ratio3"), data, f, ratio = 3)
  case_ps(paste0(nm, "_nearest_probit"), data, f, link = "probit")
  case(paste0(nm, "_nearest_mahalanobis"), data, f, method = "nearest", distance = "mahalanobis")
  case(paste0(nm, "_nearest_mahalanobis_replace"), data, f, method = "nearest",
       distance = "mahalanobis", replace = TRUE)
  case(paste0(nm, "_cem"), data, f, method = "cem")
}
case_ps("lalonde_nearest_exact", lalonde, f_lal, exact = ~ married + nodegree)
case_ps("generated_nearest_exact", generated, f_gen, exact = ~ grp, caliper = 0.25)
case("lalonde_exact", lalonde, treat ~ race + married + nodegree, method = "exact")
case("generated_exact", generated, treat ~ grp + flag, method = "exact")
