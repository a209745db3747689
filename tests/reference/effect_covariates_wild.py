"""Reference for the wild cluster bootstrap of `swp-eval effect --covariates --cluster` (Lin
2013's adjusted model): Python wildboottest's WCR test of `treat` on LaLonde's data as
effect_covariates.R writes it (tests/fixtures/lalonde/lalonde.csv), with the covariates'
model-matrix columns centred at the treated means and interacted with treatment, clustered on
`cl` (24 clusters), Webb weights, the null imposed, the "11" small-sample factor. 24 clusters
are too many to enumerate, so the p-value is a Monte Carlo estimate from 99,999 draws; the test
compares with its own 9,999 draws within Monte Carlo error.

    cd tests/reference && python3 effect_covariates_wild.py

statsmodels 0.15, wildboottest 0.3.2 (PyPI).
"""
import json

import numpy as np
import pandas as pd
import statsmodels.api as sm
from wildboottest.wildboottest import wildboottest

d = pd.read_csv("../fixtures/lalonde/lalonde.csv")
X = pd.get_dummies(d[["age", "educ", "race", "married", "nodegree", "re74", "re75"]], columns=["race"],
                   drop_first=True, dtype=float)
Xc = X - X[d["treat"] == 1].mean()
design = pd.concat([d[["treat"]].astype(float), Xc, Xc.mul(d["treat"], axis=0).add_prefix("treat_x_")], axis=1)
design = sm.add_constant(design)
model = sm.OLS(d["re78"], design)
fit = model.fit()
clusters = pd.factorize(d["cl"])[0]
res = wildboottest(model, param="treat", cluster=clusters, B=99999, weights_type="webb", impose_null=True,
                   bootstrap_type="11", seed=20261207, show=False)
out = {"estimate": float(fit.params["treat"]), "t": float(res["statistic"].iloc[0]),
       "p_value": float(res["p-value"].iloc[0]), "draws": 99999, "weights": "webb"}
print(out)
with open("effect_covariates_wild.json", "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
