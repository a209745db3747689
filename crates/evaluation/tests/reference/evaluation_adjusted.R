# Independent re-analysis in R of the covariate-adjusted effects (docs/evaluation.md "Estimation
# after matching, and weighting"; `[estimation] adjust = true`, the default) of the stacked design
# on the bundled data: MatchIt in every stack (as evaluation_stacked.R), then on the stacked
# matched sample
#   - linear rows: lm of the outcome on treatment, stack indicators, the covariates centred at
#     the treated (weighted) means and their interactions with treatment (Lin 2013), CR2 on site
#     with the Satterthwaite df (clubSandwich);
#   - ratio rows: g-computation from the GLM on the same design (the weighted mean over the
#     treated of the predicted rate or risk, offset left out, under treatment over that under
#     control), its SE by the delta method on clubSandwich's CR2 covariance of the GLM, t on the
#     df of the outcome's linear row;
#   - hazard ratios: coxph with the covariates as main effects and strata(stack), robust error
#     clustered on site times sqrt(G / (G - 1)), t on G - 1 df.
# Columns that R finds aliased (NA) are dropped and the model refitted. A level of a factor (or
# a 0/1 covariate) whose children in an arm (both arms without interactions) have no events
# separates a GLM: those children are set aside, the GLM refitted on the rest, and their
# predicted outcome in that arm is 0 (docs/evaluation.md).
#
#   cargo run --release -- report data/sample --config data/evaluation.toml --out /tmp/ref \
#       --no-suppress --cohort-out /tmp/cohort.csv
#   cd crates/evaluation/tests/reference && Rscript evaluation_adjusted.R /tmp/cohort.csv [interactions] [ps]
#
# `interactions` is TRUE (default) or FALSE (main effects only). With a third argument `ps`
# (`[estimation] method = "weighting"`, `weighting = "ps"`) the comparison group is weighted in
# place of matched: in each stack a logistic model of the covariates, pilot children 1, controls
# e / (1 - e), each child its own secondary cluster. Writes evaluation_adjusted_reference.json
# (evaluation_adjusted_main_reference.json, evaluation_weighting_ps_reference.json). R 4.2.2,
# MatchIt 4.5.1, clubSandwich 0.5.8, survival 3.5.3, jsonlite (Debian packages).
suppressMessages({library(MatchIt); library(clubSandwich); library(survival); library(jsonlite)})
args <- commandArgs(TRUE)
interactions <- if (length(args) > 1) as.logical(args[2]) else TRUE
weighting <- length(args) > 2 && args[3] == "ps"
d <- read.csv(args[1], colClasses = c(child_id = "character", site_id = "character", stack = "character",
                                      sex = "character"))
covs <- c("age", "sex", "ethnic_group", "legal_status", "placement_type", "years_in_care",
          "prior_placements", "prior_sw_changes", "cin_abuse_neglect")
f <- as.formula(paste("treated ~", paste(covs, collapse = " + ")))
d$w <- NA_real_; d$sub <- NA_character_
for (k in unique(d$stack)) {
  rows <- which(d$stack == k)
  ds <- d[rows, ]
  for (v in c("sex", "ethnic_group", "legal_status", "placement_type")) ds[[v]] <- factor(ds[[v]])
  ps <- suppressWarnings(glm(f, data = ds, family = binomial))
  if (weighting) {
    e <- unname(fitted(ps))
    w <- ifelse(ds$treated == 1, 1, e / (1 - e))
    # a control weight below 1e-8 of the stack's largest is set to 0 (docs/evaluation.md)
    d$w[rows] <- ifelse(w < 1e-8 * max(w), 0, w)
    d$sub[rows] <- paste(k, ds$child_id)
    next
  }
  lp <- unname(predict(ps))
  perm <- order(lp, decreasing = TRUE)
  dp <- ds[perm, ]; rownames(dp) <- NULL
  tr <- dp$treated
  D <- abs(outer(lp[perm][tr == 1], lp[perm][tr == 0], "-"))
  m <- matchit(f, data = dp, method = "nearest", distance = D, caliper = 0.2 * sd(lp), std.caliper = FALSE,
               exact = ~ sex)
  back <- order(perm)
  d$w[rows] <- unname(m$weights[back])
  d$sub[rows] <- ifelse(is.na(m$subclass[back]), NA, paste(k, as.character(m$subclass[back])))
}
md <- d[d$w > 0, ]
md$stack <- factor(md$stack)
for (v in c("sex", "ethnic_group", "legal_status", "placement_type")) md[[v]] <- factor(md[[v]])
G <- length(unique(md$site_id))
# the covariates as model.matrix expands them (factor levels but the first as indicators)
X <- model.matrix(as.formula(paste("~", paste(covs, collapse = " + "))), md)[, -1, drop = FALSE]
colnames(X) <- make.names(colnames(X))
S <- model.matrix(~ stack, md)[, -1, drop = FALSE]
colnames(S) <- make.names(colnames(S))
# the cells a GLM can separate on: every level of every factor (the reference level too) and
# every 0/1 covariate
L <- do.call(cbind, lapply(covs, function(v) {
  if (is.factor(md[[v]])) model.matrix(as.formula(paste("~", v, "- 1")), md)
  else if (all(md[[v]] %in% c(0, 1))) matrix(md[[v]], ncol = 1, dimnames = list(NULL, v))
  else NULL
}))
tight <- glm.control(epsilon = 1e-14, maxit = 100)

# the design on rows `rows`: treatment, stacks, covariates centred at the treated means under
# weights `w`, interactions; aliased columns dropped in order (refit after lm finds them)
design <- function(rows, w) {
  t <- md$treated[rows]
  Xr <- X[rows, , drop = FALSE]
  means <- colSums(Xr[t == 1, , drop = FALSE] * w[t == 1]) / sum(w[t == 1])
  C <- sweep(Xr, 2, means)
  D <- cbind(treated = t, S[rows, , drop = FALSE], C)
  if (interactions) {
    I <- C * t
    colnames(I) <- paste0("treated_x_", colnames(C))
    D <- cbind(D, I)
  }
  list(D = D, means = means)
}
drop_aliased <- function(D, y, w) {
  fit <- lm.wfit(cbind(1, D), y, w)
  keep <- !is.na(fit$coefficients[-1])
  D[, keep, drop = FALSE]
}
lin <- function(y, w, rows = seq_len(nrow(md))) {
  D <- drop_aliased(design(rows, w)$D, y, w)
  dd <- data.frame(y = y, D, check.names = FALSE)
  fit <- lm(y ~ ., data = dd, weights = w)
  V <- vcovCR(fit, cluster = md$site_id[rows], type = "CR2")
  ct <- coef_test(fit, vcov = V, test = "Satterthwaite", coefs = "treated")
  Vs <- vcovCR(fit, cluster = md$sub[rows], type = "CR2")
  est <- unname(coef(fit)["treated"]); se <- ct$SE; df <- ct$df_Satt; q <- qt(0.975, df)
  se2 <- sqrt(Vs["treated", "treated"])
  list(estimate = est, se = se, df = df, ci_low = est - q * se, ci_high = est + q * se,
       p_value = 2 * pt(-abs(est / se), df), se_subclass = se2,
       ci_low_subclass = est - qnorm(0.975) * se2, ci_high_subclass = est + qnorm(0.975) * se2,
       p_value_subclass = 2 * pnorm(-abs(est / se2)))
}
# separated cells: (column of X, arm or NA) whose children have no events (or, logit, only events)
separated <- function(y, logit) {
  cells <- list()
  arms <- if (interactions) c(0, 1) else NA
  for (j in seq_len(ncol(L))) {
    x <- L[, j]
    for (a in arms) {
      in_arm <- if (is.na(a)) rep(TRUE, nrow(md)) else md$treated == a
      cell <- x == 1 & in_arm
      if (!any(cell) || sum(cell) == sum(in_arm)) next
      if (all(y[cell] == 0)) cells[[length(cells) + 1]] <- list(j = j, arm = a, limit = 0)
      else if (logit && all(y[cell] == 1)) cells[[length(cells) + 1]] <- list(j = j, arm = a, limit = 1)
    }
  }
  cells
}
limit_of <- function(cells, i, a) {
  for (c in cells) if (L[i, c$j] == 1 && (is.na(c$arm) || c$arm == a)) return(c$limit)
  NA
}
gcomp <- function(y, family, contrast, offset = NULL, df) {
  logit <- family$link == "logit"
  cells <- separated(y, logit)
  fitted_rows <- which(sapply(seq_len(nrow(md)), function(i) is.na(limit_of(cells, i, md$treated[i]))))
  w <- md$w[fitted_rows]
  des <- design(fitted_rows, w)
  D <- drop_aliased(des$D, y[fitted_rows], w)
  dd <- data.frame(y = y[fitted_rows], D, check.names = FALSE)
  if (!is.null(offset)) dd$off <- offset[fitted_rows]
  form <- if (is.null(offset)) y ~ . else y ~ . - off + offset(off)
  fit <- glm(form, data = dd, family = family, weights = w, control = tight)
  b <- coef(fit)
  one <- function(V) {
    m <- c(0, 0); grad <- list(0, 0); total <- 0
    for (i in which(md$treated == 1)) {
      wi <- md$w[i]; total <- total + wi
      for (a in c(0, 1)) {
        lim <- limit_of(cells, i, a)
        if (!is.na(lim)) { m[a + 1] <- m[a + 1] + wi * lim; next }
        xc <- X[i, ] - des$means
        row <- c(1, a, S[i, ], xc)
        names(row) <- c("(Intercept)", "treated", colnames(S), colnames(X))
        if (interactions) {
          inter <- a * xc; names(inter) <- paste0("treated_x_", colnames(X)); row <- c(row, inter)
        }
        row <- row[names(b)]
        eta <- sum(row * b)
        mu <- if (logit) 1 / (1 + exp(-eta)) else exp(eta)
        dmu <- if (logit) mu * (1 - mu) else mu
        m[a + 1] <- m[a + 1] + wi * mu
        grad[[a + 1]] <- grad[[a + 1]] + wi * dmu * row
      }
    }
    m <- m / total; g0 <- grad[[1]] / total; g1 <- grad[[2]] / total
    if (contrast == "ratio") { theta <- log(m[2] / m[1]); g <- g1 / m[2] - g0 / m[1] }
    else { theta <- qlogis(m[2]) - qlogis(m[1]); g <- g1 / (m[2] * (1 - m[2])) - g0 / (m[1] * (1 - m[1])) }
    c(theta, sqrt(drop(t(g) %*% V %*% g)))
  }
  main <- one(vcovCR(fit, cluster = md$site_id[fitted_rows], type = "CR2"))
  sec <- one(vcovCR(fit, cluster = md$sub[fitted_rows], type = "CR2"))
  theta <- main[1]; se <- main[2]; se2 <- sec[2]; q <- qt(0.975, df)
  list(estimate = exp(theta), se = se, df = df, ci_low = exp(theta - q * se), ci_high = exp(theta + q * se),
       p_value = 2 * pt(-abs(theta / se), df), se_subclass = se2,
       ci_low_subclass = exp(theta - qnorm(0.975) * se2), ci_high_subclass = exp(theta + qnorm(0.975) * se2),
       p_value_subclass = 2 * pnorm(-abs(theta / se2)), set_aside = nrow(md) - length(fitted_rows))
}
row <- function(outcome, type, r) c(list(outcome = outcome, estimate_type = type), r)
rows <- list()
for (o in c("sw_changes", "placement_moves")) {
  y <- md[[o]]
  rd <- lin(y / md$exposure_years, md$w * md$exposure_years)
  rr <- gcomp(y, poisson(), "ratio", log(md$exposure_years), rd$df)
  rows[[length(rows) + 1]] <- row(o, "rate_ratio", rr)
  rows[[length(rows) + 1]] <- row(o, "rate_difference", rd)
}
o <- "three_plus_placements"
y <- md[[o]]
rd <- lin(y, md$w)
rows[[length(rows) + 1]] <- row(o, "risk_difference", rd)
rows[[length(rows) + 1]] <- row(o, "risk_ratio", gcomp(y, quasipoisson(link = "log"), "ratio", NULL, rd$df))
rows[[length(rows) + 1]] <- row(o, "odds_ratio", gcomp(y, quasibinomial(), "odds", NULL, rd$df))
for (o in c("sw_change", "placement_move")) {
  md$time <- md[[paste0("time_to_", o)]]; md$event <- md[[paste0(o, "_event")]]
  cf <- as.formula(paste("Surv(time, event) ~ treated +", paste(covs, collapse = " + "), "+ strata(stack)"))
  fit <- coxph(cf, weights = w, cluster = site_id, ties = "efron", data = md,
               control = coxph.control(eps = 1e-12, iter.max = 50))
  fit2 <- coxph(cf, weights = w, cluster = sub, ties = "efron", data = md,
                control = coxph.control(eps = 1e-12, iter.max = 50))
  est <- unname(coef(fit)["treated"]); se <- sqrt(fit$var[1, 1]) * sqrt(G / (G - 1)); q <- qt(0.975, G - 1)
  se2 <- sqrt(fit2$var[1, 1])
  rows[[length(rows) + 1]] <- list(outcome = paste0("time_to_", o), estimate_type = "hazard_ratio",
    estimate = exp(est), se = se, df = G - 1, ci_low = exp(est - q * se), ci_high = exp(est + q * se),
    p_value = 2 * pt(-abs(est / se), G - 1), se_subclass = se2,
    ci_low_subclass = exp(est - qnorm(0.975) * se2), ci_high_subclass = exp(est + qnorm(0.975) * se2),
    p_value_subclass = 2 * pnorm(-abs(est / se2)))
}
out <- list(interactions = interactions, weights = d$w, effects = rows,
            versions = list(R = R.version.string, MatchIt = as.character(packageVersion("MatchIt")),
                            clubSandwich = as.character(packageVersion("clubSandwich")),
                            survival = as.character(packageVersion("survival"))))
name <- if (weighting) "evaluation_weighting_ps_reference.json" else
  if (interactions) "evaluation_adjusted_reference.json" else "evaluation_adjusted_main_reference.json"
write_json(out, name, digits = NA, auto_unbox = TRUE, na = "null", null = "null")
