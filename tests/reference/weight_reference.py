"""Reference weights for `swp-eval weight` on LaLonde's data (tests/fixtures/lalonde/lalonde.csv,
written by effect_covariates.R), written to tests/reference/weight_reference.json.

    pip install statsmodels==0.15.0 empirical_calibration==0.12 pandas numpy
    python tests/reference/weight_reference.py

- ps: the logit propensity model of treat on age, educ, race (indicators, `black` the
  reference level), married, nodegree, re74, re75 by statsmodels' Logit; ATT weights treated 1,
  controls e / (1 - e).
- entropy: empirical_calibration.calibrate(objective=ENTROPY) of the controls' covariates
  (the same model columns) toward the treated means; its weights (summing to 1) times the
  number of treated.
Each with the effective sample sizes (sum w)^2 / sum w^2 of both groups.
"""
import json
import os

import numpy as np
import pandas as pd
import statsmodels.api as sm
import empirical_calibration as ec

HERE = os.path.dirname(os.path.abspath(__file__))
d = pd.read_csv(os.path.join(HERE, "..", "fixtures", "lalonde", "lalonde.csv"))
X = pd.DataFrame({
    "age": d.age, "educ": d.educ,
    "racehispan": (d.race == "hispan").astype(float), "racewhite": (d.race == "white").astype(float),
    "married": d.married, "nodegree": d.nodegree, "re74": d.re74, "re75": d.re75,
}).astype(float)
t = d.treat.to_numpy() == 1


def ess(w):
    return float(w.sum() ** 2 / (w ** 2).sum())


fit = sm.Logit(t.astype(float), sm.add_constant(X)).fit(disp=0, tol=1e-12, maxiter=200)
e = fit.predict(sm.add_constant(X)).to_numpy()
ps = np.where(t, 1.0, e / (1 - e))

w_c, ok = ec.calibrate(covariates=X[~t].to_numpy(), target_covariates=X[t].to_numpy(),
                       objective=ec.Objective.ENTROPY)
assert ok
entropy = np.ones(len(t))
entropy[~t] = w_c * t.sum()

out = {
    "tool": "statsmodels 0.15.0 (Logit), empirical_calibration 0.12 (calibrate, ENTROPY)",
    "ps": {"weights": ps.tolist(), "ess_treated": ess(ps[t]), "ess_control": ess(ps[~t])},
    "entropy": {"weights": entropy.tolist(), "ess_treated": ess(entropy[t]), "ess_control": ess(entropy[~t])},
}
with open(os.path.join(HERE, "weight_reference.json"), "w") as fh:
    json.dump(out, fh)
    fh.write("\n")
