# Peer of survival-bench: the Kaplan-Meier curve of everyone and the Cox model of time to event
# on treatment (Efron ties, R's default) with R survival, as an evaluator writes it.
# Usage: Rscript survival_r.R FILE.csv
# Prints one JSON object: seconds (reading included; loading the package excluded), km_median,
# cox_coef, cox_se.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
elapsed <- system.time({
  data <- read.csv(args[1])
  km <- survfit(Surv(time, event) ~ 1, data = data)
  fit <- coxph(Surv(time, event) ~ treated, data = data, ties = "efron")
})[["elapsed"]]
median <- unname(summary(km)$table["median"])
out <- list(seconds = unname(elapsed), km_median = if (is.na(median)) NULL else median,
            cox_coef = unname(coef(fit)), cox_se = unname(sqrt(diag(vcov(fit)))))
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, null = "null"), "\n")
