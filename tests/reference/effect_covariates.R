# Reference values for `swp-eval effect --covariates` (Lin 2013 adjustment) on LaLonde's NSW
# data as MatchIt ships it (614 men; covariates age, educ, race, married, nodegree, re74, re75;
# outcome re78). Writes tests/fixtures/lalonde/lalonde.csv (with an arbitrary positive weight
# column `w` and a cluster column `cl`, 24 clusters) and tests/reference/effect_covariates.json.
#
#   cd tests/reference && Rscript effect_covariates.R
#
# R 4.2.2, MatchIt 4.5.1 (its lalonde data), sandwich 3.0.2, clubSandwich 0.5.8, jsonlite
# (Debian packages). The model: lm(re78 ~ treat * Xc) with Xc the covariates' model-matrix
# columns centred at the treated group's (weighted) means; the coefficient of treat, its HC2
# error with the residual df (lmtest::coeftest's default t), or with clusters CR2 and the
# Satterthwaite (Bell-McCaffrey) df of clubSandwich::coef_test.
suppressMessages({library(MatchIt); library(sandwich); library(clubSandwich); library(jsonlite)})
data(lalonde)
d <- lalonde
d$race <- as.character(d$race)
d$w <- 1 + (seq_len(nrow(d)) %% 3) / 2
d$cl <- sprintf("c%02d", seq_len(nrow(d)) %% 24)
dir.create("../fixtures/lalonde", showWarnings = FALSE)
write.csv(d, "../fixtures/lalonde/lalonde.csv", row.names = FALSE)
X <- model.matrix(~ age + educ + race + married + nodegree + re74 + re75, d)[, -1]
fit_one <- function(weights, cluster) {
  w <- if (is.null(weights)) rep(1, nrow(d)) else weights
  m <- colSums(X[d$treat == 1, , drop = FALSE] * w[d$treat == 1]) / sum(w[d$treat == 1])
  Xc <- sweep(X, 2, m)
  dat <- data.frame(re78 = d$re78, treat = d$treat, Xc)
  f <- lm(re78 ~ treat * ., data = dat, weights = w)
  est <- unname(coef(f)["treat"])
  if (is.null(cluster)) {
    se <- sqrt(vcovHC(f, type = "HC2")["treat", "treat"])
    df <- f$df.residual
  } else {
    ct <- coef_test(f, vcov = "CR2", cluster = cluster, test = "Satterthwaite", coefs = "treat")
    se <- ct$SE; df <- ct$df_Satt
  }
  p <- 2 * pt(-abs(est / se), df)
  list(estimate = est, se = se, df = df, p_value = p,
       ci_low = est - qt(0.975, df) * se, ci_high = est + qt(0.975, df) * se)
}
out <- list(
  raw_difference = mean(d$re78[d$treat == 1]) - mean(d$re78[d$treat == 0]),
  hc2 = fit_one(NULL, NULL),
  hc2_weighted = fit_one(d$w, NULL),
  cr2 = fit_one(NULL, d$cl),
  cr2_weighted = fit_one(d$w, d$cl)
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "effect_covariates.json")
