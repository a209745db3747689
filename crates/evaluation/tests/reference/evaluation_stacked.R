# Independent re-analysis in R of the stacked design (docs/evaluation.md "Staggered go-lives";
# `index = "per_pilot"`, the default) on the bundled data: MatchIt run separately in every stack,
# then every effect model on the stacked matched sample with stack indicators (Cox: strata), CR2
# on site from clubSandwich, the Cox robust error from survival. Input: the child-level cohort
# that `swp-eval report` writes (one row per child and stack; the cohort building is swp-eval's
# and is checked against cohort.py separately).
#
#   cargo run --release -- report data/sample --config data/evaluation.toml --out /tmp/ref \
#       --no-suppress --cohort-out /tmp/cohort.csv
#   cd crates/evaluation/tests/reference && Rscript evaluation_stacked.R /tmp/cohort.csv
#
# Writes evaluation_stacked_reference.json. R 4.2.2, MatchIt 4.5.1, clubSandwich 0.5.8,
# survival 3.5.3, jsonlite (Debian packages). As evaluation.R, the matching goes through
# MatchIt's matrix-distance path (Debian's 4.5.1 ignores calipers under 1 in its
# propensity-score path, #163), with the units in decreasing order of the linear logit so that
# MatchIt's data order is m.order = "largest".
suppressMessages({library(MatchIt); library(clubSandwich); library(survival); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1], colClasses = c(child_id = "character", site_id = "character", stack = "character",
                                      sex = "character"))
f <- treated ~ age + sex + ethnic_group + legal_status + placement_type + years_in_care +
  prior_placements + prior_sw_changes + cin_abuse_neglect
d$w <- NA_real_; d$sub <- NA_character_; d$lp <- NA_real_
stacks <- unique(d$stack)
per_stack <- list()
for (k in stacks) {
  rows <- which(d$stack == k)
  ds <- d[rows, ]
  for (v in c("sex", "ethnic_group", "legal_status", "placement_type")) ds[[v]] <- factor(ds[[v]])
  # glm warns when the model separates (fitted probabilities 0 or 1) and goes on, as MatchIt does
  ps <- suppressWarnings(glm(f, data = ds, family = binomial))
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
  d$lp[rows] <- lp
  per_stack[[k]] <- list(stack = k, treated = sum(ds$treated == 1), control = sum(ds$treated == 0),
                         matched_treated = sum(m$weights > 0 & tr == 1),
                         matched_control = sum(m$weights > 0 & tr == 0))
}
md <- d[d$w > 0, ]
md$stack <- factor(md$stack)
G <- length(unique(md$site_id))

cr2 <- function(fit, cluster, exp = FALSE) {
  V <- vcovCR(fit, cluster = cluster, type = "CR2")
  ct <- coef_test(fit, vcov = V, test = "Satterthwaite", coefs = "treated")
  est <- unname(coef(fit)["treated"]); se <- ct$SE; df <- ct$df_Satt
  q <- qt(0.975, df)
  tr <- if (exp) base::exp else identity
  list(estimate = tr(est), se = se, df = df, ci_low = tr(est - q * se), ci_high = tr(est + q * se),
       p_value = 2 * pt(-abs(est / se), df))
}
secondary <- function(fit, cluster, exp = FALSE) {
  V <- vcovCR(fit, cluster = cluster, type = "CR2")
  est <- unname(coef(fit)["treated"]); se <- sqrt(V["treated", "treated"])
  tr <- if (exp) base::exp else identity
  list(se_subclass = se, ci_low_subclass = tr(est - qnorm(0.975) * se), ci_high_subclass = tr(est + qnorm(0.975) * se),
       p_value_subclass = 2 * pnorm(-abs(est / se)))
}
# as evaluation.R: GLMs converged tightly, so that the bread is the converged fit's
tight <- glm.control(epsilon = 1e-14, maxit = 100)
row <- function(outcome, type, main, sec) c(list(outcome = outcome, estimate_type = type), main, sec)
rows <- list()
for (o in c("sw_changes", "placement_moves")) {
  md$y <- md[[o]]
  rr <- glm(y ~ treated + stack + offset(log(exposure_years)), family = poisson, weights = w, data = md,
            control = tight)
  rows[[length(rows) + 1]] <- row(o, "rate_ratio", cr2(rr, md$site_id, TRUE), secondary(rr, md$sub, TRUE))
  md$rate <- md$y / md$exposure_years; md$we <- md$w * md$exposure_years
  rd <- lm(rate ~ treated + stack, weights = we, data = md)
  rows[[length(rows) + 1]] <- row(o, "rate_difference", cr2(rd, md$site_id), secondary(rd, md$sub))
}
o <- "three_plus_placements"
rd <- lm(three_plus_placements ~ treated + stack, weights = w, data = md)
rows[[length(rows) + 1]] <- row(o, "risk_difference", cr2(rd, md$site_id), secondary(rd, md$sub))
rr <- glm(three_plus_placements ~ treated + stack, family = quasipoisson(link = "log"), weights = w, data = md,
          control = tight)
rows[[length(rows) + 1]] <- row(o, "risk_ratio", cr2(rr, md$site_id, TRUE), secondary(rr, md$sub, TRUE))
or <- glm(three_plus_placements ~ treated + stack, family = quasibinomial, weights = w, data = md, control = tight)
rows[[length(rows) + 1]] <- row(o, "odds_ratio", cr2(or, md$site_id, TRUE), secondary(or, md$sub, TRUE))
survival_out <- list()
for (o in c("sw_change", "placement_move")) {
  md$time <- md[[paste0("time_to_", o)]]; md$event <- md[[paste0(o, "_event")]]
  fit <- coxph(Surv(time, event) ~ treated + strata(stack), weights = w, cluster = site_id, ties = "efron",
               data = md)
  est <- unname(coef(fit)); se <- sqrt(fit$var[1, 1]) * sqrt(G / (G - 1)); q <- qt(0.975, G - 1)
  fit2 <- coxph(Surv(time, event) ~ treated + strata(stack), weights = w, cluster = sub, ties = "efron",
                data = md)
  se2 <- sqrt(fit2$var[1, 1])
  rows[[length(rows) + 1]] <- list(outcome = paste0("time_to_", o), estimate_type = "hazard_ratio",
    estimate = exp(est), se = se, df = G - 1, ci_low = exp(est - q * se), ci_high = exp(est + q * se),
    p_value = 2 * pt(-abs(est / se), G - 1), se_subclass = se2,
    ci_low_subclass = exp(est - qnorm(0.975) * se2), ci_high_subclass = exp(est + qnorm(0.975) * se2),
    p_value_subclass = 2 * pnorm(-abs(est / se2)))
  km <- survfit(Surv(time, event) ~ treated, data = md, weights = w)
  med <- unname(summary(km)$table[, "median"])
  survival_out[[length(survival_out) + 1]] <- list(outcome = paste0("time_to_", o),
    median_control = med[1], median_treated = med[2], robust_score = unname(fit$rscore)[1])
}
primary <- c(1, 3, 5, 8, 9)
p <- sapply(rows[primary], function(r) r$p_value)
holm <- p.adjust(p, "holm")
for (k in seq_along(primary)) rows[[primary[k]]]$p_holm <- holm[k]
out <- list(
  stacks = unname(per_stack), weights = d$w,
  n = list(matched_treated = sum(md$treated == 1), matched_control = sum(md$treated == 0)),
  effects = rows, survival = survival_out,
  versions = list(R = R.version.string, MatchIt = as.character(packageVersion("MatchIt")),
                  clubSandwich = as.character(packageVersion("clubSandwich")),
                  survival = as.character(packageVersion("survival")))
)
write_json(out, "evaluation_stacked_reference.json", digits = NA, auto_unbox = TRUE, na = "null", null = "null")
