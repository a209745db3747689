# Reference values of the noncentral t CDF for swp-stats' pt_noncentral: R 4.2.2 pt(q, df, ncp)
# on a grid of t, degrees of freedom and noncentrality (both signs). Run: Rscript pnt.R
suppressMessages(library(jsonlite))
grid <- expand.grid(q = c(-5, -1, -0.1, 0.5, 2, 8, 30), df = c(1, 3, 10, 50, 1000),
                    ncp = c(-10, -2, -0.5, 0.7, 3, 12))
grid$p <- mapply(function(q, df, ncp) pt(q, df, ncp), grid$q, grid$df, grid$ncp)
write_json(grid, "pnt.json", digits = NA)
