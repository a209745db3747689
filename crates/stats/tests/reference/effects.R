# Reference values for swp-stats issue 6: effect sizes (t.test, effectsize 0.8.3), Wald risk
# measures (glm), Poisson rate ratios with HC0 errors (sandwich 3.0.2), cluster-robust errors
# (sandwich::vcovCL CR1; clubSandwich 0.5.8 CR2 with Bell-McCaffrey / Satterthwaite df),
# Kaplan-Meier, log-rank and Cox (survival 3.5.3) and p.adjust, on generated data.
# R 4.2.2 (Debian 12). Run from this directory: Rscript effects.R
suppressPackageStartupMessages({
  library(jsonlite); library(sandwich); library(clubSandwich); library(survival); library(effectsize)
})
set.seed(20230401)

# --- two groups, clustered (treatment by cluster, as pilot sites), with match weights -------
G <- 12
cl_size <- sample(15:45, G, replace = TRUE)
cluster <- rep(seq_len(G), cl_size)
n <- length(cluster)
group <- as.integer(cluster <= 4)
u <- rnorm(G, 0, 0.5)[cluster]
y <- round(10 + 1.2 * group + u + rnorm(n, 0, 2 + group), 4)
yb <- rbinom(n, 1, plogis(-0.5 + 0.6 * group + u))
exposure <- round(runif(n, 0.3, 2), 3)
count <- rpois(n, exposure * exp(0.2 - 0.35 * group + u))
ord <- pmin(5, pmax(1, round(3 + 0.5 * group + rnorm(n)))) 
w <- ifelse(group == 1, 1, round(runif(n, 0.2, 2), 3))
effects <- data.frame(cluster, group, y, yb, count, exposure, ord, w)
write.csv(effects, "effects.csv", row.names = FALSE, quote = FALSE)

num <- function(x) unname(as.numeric(x))
out <- list()
tt <- t.test(y[group == 1], y[group == 0])  # Welch
out$welch <- list(difference = num(tt$estimate[1] - tt$estimate[2]), se = num(tt$stderr),
                  df = num(tt$parameter), ci = num(tt$conf.int), p = num(tt$p.value))
g <- hedges_g(y[group == 1], y[group == 0])
d <- cohens_d(y[group == 1], y[group == 0])
out$hedges_g <- list(g = num(g$Hedges_g), ci = c(num(g$CI_low), num(g$CI_high)))
out$cohens_d <- list(d = num(d$Cohens_d), ci = c(num(d$CI_low), num(d$CI_high)))
# effectsize finds the noncentrality bounds with optim (abstol 1e-9); the exact roots of
# pt(t, df, ncp) = 0.975 and 0.025, for the same interval without optimiser error:
n1 <- sum(group == 1); n0 <- sum(group == 0); dfp <- n1 + n0 - 2
tp <- num(d$Cohens_d) / sqrt(1 / n1 + 1 / n0)
ncp_root <- function(p) uniroot(function(ncp) pt(tp, dfp, ncp) - p, c(tp - 10, tp + 10), tol = 1e-13)$root
J <- exp(lgamma(dfp / 2) - log(sqrt(dfp / 2)) - lgamma((dfp - 1) / 2))
out$hedges_g_exact_ci <- c(ncp_root(0.975), ncp_root(0.025)) * sqrt(1 / n1 + 1 / n0) * J
out$pt_values <- list(q = c(-2, 0.5, 3, 7.5), df = c(5, 30, 250, 40), ncp = c(-1, 0.3, 2.5, 6),
                      p = pt(c(-2, 0.5, 3, 7.5), c(5, 30, 250, 40), c(-1, 0.3, 2.5, 6)))
# Wald risk measures from saturated GLMs (the 2x2 table formulas)
rd <- glm(yb ~ group, family = binomial("identity"))
rr <- glm(yb ~ group, family = binomial("log"))
or <- glm(yb ~ group, family = binomial("logit"))
wald <- function(fit, tr = identity) {
  b <- coef(fit)[2]; s <- sqrt(vcov(fit)[2, 2]); z <- qnorm(0.975)
  list(estimate = num(tr(b)), ci = num(tr(c(b - z * s, b + z * s))), se = num(s))
}
# the same measures from the 2x2 table (exact; the log-binomial glm stops at its deviance
# criterion, 1e-5 away from the exact ratio here)
a <- sum(yb[group == 1]); n1b <- sum(group == 1); cc <- sum(yb[group == 0]); n0b <- sum(group == 0)
p1 <- a / n1b; p0 <- cc / n0b; z <- qnorm(0.975)
se_rd <- sqrt(p1 * (1 - p1) / n1b + p0 * (1 - p0) / n0b)
se_lrr <- sqrt(1 / a - 1 / n1b + 1 / cc - 1 / n0b)
se_lor <- sqrt(1 / a + 1 / (n1b - a) + 1 / cc + 1 / (n0b - cc))
lor <- log(a * (n0b - cc) / ((n1b - a) * cc))
out$table_2x2 <- list(
  risk_difference = list(estimate = p1 - p0, ci = (p1 - p0) + c(-1, 1) * z * se_rd),
  risk_ratio = list(estimate = p1 / p0, ci = exp(log(p1 / p0) + c(-1, 1) * z * se_lrr)),
  odds_ratio = list(estimate = exp(lor), ci = exp(lor + c(-1, 1) * z * se_lor)))
# weighted (match weights w): saturated quasi-binomial GLMs with weights and HC0 errors
wald_hc0 <- function(link, tr = identity) {
  fit <- suppressWarnings(glm(yb ~ group, family = quasibinomial(link), weights = w))
  b <- coef(fit)[2]; s <- sqrt(vcovHC(fit, type = "HC0")[2, 2]); z <- qnorm(0.975)
  list(estimate = num(tr(b)), ci = num(tr(c(b - z * s, b + z * s))))
}
out$weighted <- list(risk_difference = wald_hc0("identity"), risk_ratio = wald_hc0("log", exp),
                     odds_ratio = wald_hc0("logit", exp))
out$risk_difference <- wald(rd)
out$risk_ratio <- wald(rr, exp)
out$odds_ratio <- wald(or, exp)
pois <- glm(count ~ group + offset(log(exposure)), family = poisson())
V0 <- vcovHC(pois, type = "HC0")
b <- coef(pois)[2]; s <- sqrt(V0[2, 2])
out$rate_ratio <- list(estimate = num(exp(b)), se_log = num(s),
                       ci = num(exp(c(b - qnorm(0.975) * s, b + qnorm(0.975) * s))))
poisw <- suppressWarnings(glm(count ~ group + offset(log(exposure)), family = poisson(), weights = w))
bw <- coef(poisw)[2]; sw <- sqrt(vcovHC(poisw, type = "HC0")[2, 2])
out$rate_ratio_weighted <- list(estimate = num(exp(bw)), se_log = num(sw),
                                ci = num(exp(c(bw - qnorm(0.975) * sw, bw + qnorm(0.975) * sw))))
cd <- cliffs_delta(ord[group == 1], ord[group == 0])
wt <- suppressWarnings(wilcox.test(ord[group == 1], ord[group == 0], exact = FALSE, correct = TRUE))
out$cliffs_delta <- list(delta = num(cd$r_rank_biserial), ci = c(num(cd$CI_low), num(cd$CI_high)),
                         mann_whitney_w = num(wt$statistic), p = num(wt$p.value))

# cluster-robust: unweighted and weighted regressions of y on group
cr <- function(fit) {
  v1 <- vcovCL(fit, cluster = ~cluster, type = "HC1")
  v2 <- vcovCR(fit, cluster = effects$cluster, type = "CR2")
  ct <- coef_test(fit, vcov = v2, test = "Satterthwaite")
  list(coef = num(coef(fit)), se_cr1 = num(sqrt(diag(v1))), se_cr2 = num(ct$SE),
       df_bm = num(ct$df_Satt), p_cr2 = num(ct$p_Satt),
       vcov_hc2 = num(sqrt(diag(vcovHC(fit, type = "HC2")))),
       se_hc0 = num(sqrt(diag(vcovHC(fit, type = "HC0")))),
       se_hc1 = num(sqrt(diag(vcovHC(fit, type = "HC1")))),
       se_hc3 = num(sqrt(diag(vcovHC(fit, type = "HC3")))))
}
out$cluster_unweighted <- cr(lm(y ~ group, data = effects))
out$cluster_weighted <- cr(lm(y ~ group, data = effects, weights = w))
write_json(out, "effects.json", digits = NA, auto_unbox = TRUE)

# --- difference-in-differences: 10 sites (3 pilots), baseline and follow-up ------------------
sites <- 10
did <- do.call(rbind, lapply(seq_len(sites), function(s) {
  m <- sample(20:40, 1); pilot <- as.integer(s <= 3); a <- rnorm(1, 0, 1)
  do.call(rbind, lapply(0:1, function(post) {
    data.frame(site = s, pilot = pilot, post = post,
               y = round(5 + a + 0.8 * post - 1.0 * pilot * post + rnorm(m, 0, 1.5), 4))
  }))
}))
write.csv(did, "did.csv", row.names = FALSE, quote = FALSE)
fit <- lm(y ~ pilot * post, data = did)
v2 <- vcovCR(fit, cluster = did$site, type = "CR2")
ct <- coef_test(fit, vcov = v2, test = "Satterthwaite")
write_json(list(coef = num(coef(fit)), names = names(coef(fit)),
                se_cr1 = num(sqrt(diag(vcovCL(fit, cluster = ~site, type = "HC1")))),
                se_cr2 = num(ct$SE), df_bm = num(ct$df_Satt), p_cr2 = num(ct$p_Satt)),
           "did.json", digits = NA, auto_unbox = TRUE)

# --- survival: time to first change, two groups, integer days with ties, censoring -----------
ns <- 160
sgroup <- rep(0:1, each = ns / 2)
t_event <- ceiling(rexp(ns, ifelse(sgroup == 1, 1 / 300, 1 / 200)))
t_cens <- ceiling(runif(ns, 50, 700))
time <- pmin(t_event, t_cens); event <- as.integer(t_event <= t_cens)
surv <- data.frame(time, event, group = sgroup)
write.csv(surv, "survival.csv", row.names = FALSE, quote = FALSE)
km <- survfit(Surv(time, event) ~ 1, data = surv[surv$group == 1, ])
lr <- survdiff(Surv(time, event) ~ group, data = surv)
cx <- coxph(Surv(time, event) ~ group, data = surv, ties = "efron")
scx <- summary(cx)
write_json(list(
  km_group1 = list(time = km$time, n_risk = km$n.risk, n_event = km$n.event, surv = km$surv,
                   std_err = km$std.err, lower = km$lower, upper = km$upper),
  logrank = list(chisq = num(lr$chisq), p = num(1 - pchisq(lr$chisq, 1)),
                 observed = num(lr$obs), expected = num(lr$exp)),
  cox = list(coef = num(coef(cx)), se = num(sqrt(diag(vcov(cx)))), hr = num(exp(coef(cx))),
             ci = num(scx$conf.int[, c("lower .95", "upper .95")]), p = num(scx$coefficients[, "Pr(>|z|)"]),
             loglik = num(cx$loglik))
), "survival.json", digits = NA, auto_unbox = TRUE)

# --- multiplicity -----------------------------------------------------------------------------
p <- c(0.0001, 0.004, 0.019, 0.021, 0.03, 0.041, 0.045, 0.06, 0.074, 0.2, 0.25, 0.5, 0.51, 0.9, 0.03, 1)
write_json(list(p = p, holm = p.adjust(p, "holm"), hochberg = p.adjust(p, "hochberg"),
                BH = p.adjust(p, "BH"), BY = p.adjust(p, "BY")),
           "padjust.json", digits = NA, auto_unbox = TRUE)
