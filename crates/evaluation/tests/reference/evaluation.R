# Independent re-analysis of the bundled evaluation in R, from the child-level cohort and the
# site panel that `swp-eval report` writes (the cohort building itself is swp-eval's; this
# script checks the matching, balance and every estimate on it).
#
#   cargo run --release -- report data/sample --config data/evaluation.toml --out /tmp/ref \
#       --no-suppress --cohort-out /tmp/cohort.csv
#   cd crates/evaluation/tests/reference && Rscript evaluation.R /tmp/cohort.csv /tmp/ref/tables/site_panel.csv
#
# Writes evaluation_reference.json. R 4.2.2, MatchIt 4.5.1, sandwich 3.0.2, clubSandwich 0.5.8,
# survival 3.5.3, jsonlite (Debian packages). The matched sample uses MatchIt's matrix-distance
# path for the reason given in crates/stats/tests/reference/matchit.R (Debian's 4.5.1 ignores
# calipers under 1 in its propensity-score path, #163).
suppressMessages({library(MatchIt); library(sandwich); library(clubSandwich); library(survival); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1], colClasses = c(child_id = "character", site_id = "character", sex = "character"))
panel <- read.csv(args[2])
for (v in c("sex", "ethnic_group", "legal_status", "placement_type")) d[[v]] <- factor(d[[v]])
f <- treated ~ age + sex + ethnic_group + legal_status + placement_type + years_in_care +
  prior_placements + prior_sw_changes + cin_abuse_neglect
ps <- glm(f, data = d, family = binomial)
lp <- unname(predict(ps))
perm <- order(lp, decreasing = TRUE)
dp <- d[perm, ]; rownames(dp) <- NULL
tr <- dp$treated
D <- abs(outer(lp[perm][tr == 1], lp[perm][tr == 0], "-"))
m <- matchit(f, data = dp, method = "nearest", distance = D, caliper = 0.2 * sd(lp), std.caliper = FALSE,
             exact = ~ sex)
back <- order(perm)
w <- unname(m$weights[back])
sub <- unname(as.integer(as.character(m$subclass)))[back]
dp$distance <- lp[perm]
s <- summary(m, un = TRUE, addlvariables = "distance", data = dp)
tab <- function(x) {
  x <- x[c(nrow(x), seq_len(nrow(x) - 1)), , drop = FALSE]
  lapply(seq_len(nrow(x)), function(i) { r <- as.list(x[i, ]); r$covariate <- rownames(x)[i]; r })
}
d$w <- w; d$subclass <- sub
md <- d[w > 0, ]
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
# The GLMs converge tightly: sandwich's bread for a glm is the covariance of the last IRLS
# step, taken at the previous iterate; at R's default epsilon (1e-8) that moves the CR2 df of
# a rate ratio by about 2e-6 relative. swp-eval evaluates every part at the converged fit.
tight <- glm.control(epsilon = 1e-14, maxit = 100)
row <- function(outcome, type, main, sec) c(list(outcome = outcome, estimate_type = type), main, sec)
rows <- list()
for (o in c("sw_changes", "placement_moves")) {
  md$y <- md[[o]]
  rr <- glm(y ~ treated + offset(log(exposure_years)), family = poisson, weights = w, data = md, control = tight)
  rows[[length(rows) + 1]] <- row(o, "rate_ratio", cr2(rr, md$site_id, TRUE), secondary(rr, md$subclass, TRUE))
  md$rate <- md$y / md$exposure_years; md$we <- md$w * md$exposure_years
  rd <- lm(rate ~ treated, weights = we, data = md)
  rows[[length(rows) + 1]] <- row(o, "rate_difference", cr2(rd, md$site_id), secondary(rd, md$subclass))
}
o <- "three_plus_placements"
rd <- lm(three_plus_placements ~ treated, weights = w, data = md)
rows[[length(rows) + 1]] <- row(o, "risk_difference", cr2(rd, md$site_id), secondary(rd, md$subclass))
rr <- glm(three_plus_placements ~ treated, family = quasipoisson(link = "log"), weights = w, data = md, control = tight)
rows[[length(rows) + 1]] <- row(o, "risk_ratio", cr2(rr, md$site_id, TRUE), secondary(rr, md$subclass, TRUE))
or <- glm(three_plus_placements ~ treated, family = quasibinomial, weights = w, data = md, control = tight)
rows[[length(rows) + 1]] <- row(o, "odds_ratio", cr2(or, md$site_id, TRUE), secondary(or, md$subclass, TRUE))
survival_out <- list()
for (o in c("sw_change", "placement_move")) {
  md$time <- md[[paste0("time_to_", o)]]; md$event <- md[[paste0(o, "_event")]]
  fit <- coxph(Surv(time, event) ~ treated, weights = w, cluster = site_id, ties = "efron", data = md)
  est <- unname(coef(fit)); se <- sqrt(fit$var[1, 1]) * sqrt(G / (G - 1)); q <- qt(0.975, G - 1)
  fit2 <- coxph(Surv(time, event) ~ treated, weights = w, cluster = subclass, ties = "efron", data = md)
  se2 <- sqrt(fit2$var[1, 1])
  rows[[length(rows) + 1]] <- list(outcome = paste0("time_to_", o), estimate_type = "hazard_ratio",
    estimate = exp(est), se = se, df = G - 1, ci_low = exp(est - q * se), ci_high = exp(est + q * se),
    p_value = 2 * pt(-abs(est / se), G - 1), se_subclass = se2,
    ci_low_subclass = exp(est - qnorm(0.975) * se2), ci_high_subclass = exp(est + qnorm(0.975) * se2),
    p_value_subclass = 2 * pnorm(-abs(est / se2)))
  km <- survfit(Surv(time, event) ~ treated, data = md, weights = w)
  med <- unname(summary(km)$table[, "median"])
  lr <- survdiff(Surv(time, event) ~ treated, data = md)
  survival_out[[length(survival_out) + 1]] <- list(outcome = paste0("time_to_", o),
    median_control = med[1], median_treated = med[2], log_rank_chisq = unname(lr$chisq),
    robust_score = unname(fit$rscore))
}
primary <- c(1, 3, 5, 8, 9)
p <- sapply(rows[primary], function(r) r$p_value)
holm <- p.adjust(p, "holm")
for (k in seq_along(primary)) rows[[primary[k]]]$p_holm <- holm[k]

did <- list()
for (metric in unique(panel$metric)) {
  pm <- panel[panel$metric == metric & !is.na(panel$value), ]
  fit <- lm(value ~ factor(site) + factor(year) + treated_share, data = pm)
  V <- vcovCR(fit, cluster = pm$site, type = "CR2")
  ct <- coef_test(fit, vcov = V, test = "Satterthwaite", coefs = "treated_share")
  did[[length(did) + 1]] <- list(metric = metric, estimate = unname(coef(fit)["treated_share"]),
    se = ct$SE, df = ct$df_Satt)
}
out <- list(
  n = list(treated = sum(d$treated == 1), control = sum(d$treated == 0),
           matched_treated = sum(md$treated == 1), matched_control = sum(md$treated == 0)),
  weights = w,
  balance = list(all = tab(s$sum.all), matched = tab(s$sum.matched)),
  effects = rows, survival = survival_out, site_did = did,
  versions = list(R = R.version.string, MatchIt = as.character(packageVersion("MatchIt")),
                  clubSandwich = as.character(packageVersion("clubSandwich")),
                  survival = as.character(packageVersion("survival")))
)
write_json(out, "evaluation_reference.json", digits = NA, auto_unbox = TRUE, na = "null", null = "null")
