# Peer of `swp-eval effect --table FILE --group pilot --outcome y --cluster site`: the difference
# in means with CR2 errors and Bell-McCaffrey degrees of freedom (clubSandwich) and CR1 errors
# (sandwich::vcovCL), as an evaluator writes it in R.
# Usage: Rscript effect_r.R FILE.csv
# Prints one JSON object: seconds (model, CR2 with its test, CR1; reading the file and loading the
# packages excluded), difference, se (CR2), df, se_cr1.
suppressPackageStartupMessages({ library(sandwich); library(clubSandwich) })
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
elapsed <- system.time({
  fit <- lm(y ~ pilot, data = data)
  cr2 <- coef_test(fit, vcov = "CR2", cluster = data$site, test = "Satterthwaite")
  cr1 <- sqrt(vcovCL(fit, cluster = ~site, type = "HC1")["pilot", "pilot"])
})[["elapsed"]]
out <- list(seconds = unname(elapsed), difference = unname(coef(fit)["pilot"]), se = cr2$SE[2],
            df = cr2$df_Satt[2], se_cr1 = unname(cr1))
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
