"""Wild cluster bootstrap reference for swp-stats (issue 6): Python wildboottest 0.3.2 with
statsmodels 0.15 on did.csv (10 sites, 3 pilots): the difference-in-differences coefficient
(pilot:post), clustered on site. Rademacher weights with 10 clusters have 2^10 = 1,024 distinct
draws, fewer than the 9,999 replications, so wildboottest enumerates them all and the p-value
is exact (deterministic); Webb weights are drawn at random (Monte Carlo error). Run from this
directory: python3 wildboot.py
"""
import json

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from wildboottest.wildboottest import wildboottest

did = pd.read_csv("did.csv")
model = smf.ols("y ~ pilot * post", data=did)
out = {}
for weights in ["rademacher", "webb"]:
    for null in [True, False]:
        res = wildboottest(model, param="pilot:post", cluster=did["site"], B=9999,
                           weights_type=weights, impose_null=null, bootstrap_type="11",
                           seed=12345, show=False)
        key = f"{weights}_{'wcr' if null else 'wcu'}"
        out[key] = {"p": float(np.asarray(res["p-value"]).ravel()[0]),
                    "t": float(np.asarray(res["statistic"]).ravel()[0])}
        print(key, out[key])
json.dump(out, open("wildboot.json", "w"))

# Randomisation inference of the same difference in differences: reassign the pilot label to
# every set of 3 of the 10 sites (120 sets) and recompute the statistic from the unit-level
# cell means with pandas.
from itertools import combinations

sites = sorted(did["site"].unique())
pilots = sorted(did.loc[did["pilot"] == 1, "site"].unique())


def did_stat(treated_sites):
    t = did["site"].isin(treated_sites)
    m = lambda mask, post: did.loc[mask & (did["post"] == post), "y"].mean()
    return (m(t, 1) - m(t, 0)) - (m(~t, 1) - m(~t, 0))


observed = did_stat(pilots)
stats = [did_stat(list(c)) for c in combinations(sites, len(pilots))]
ri = {"estimate": observed, "p": float(np.mean([abs(s) >= abs(observed) * (1 - 1e-12) for s in stats])),
      "assignments": len(stats)}
print("ri", ri)
out["randomisation"] = ri
json.dump(out, open("wildboot.json", "w"))
