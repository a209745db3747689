"""Wild cluster bootstrap reference for the bundled evaluation: Python wildboottest (0.3.x) with
statsmodels on the matched cohort that `swp-eval report --no-suppress --cohort-out` writes.
The rate differences (WLS of count / exposure, weights match weight x exposure) and the risk
difference (WLS, weights = match weights) become OLS on sqrt(weight)-scaled data (docs/evaluation.md);
WCR (null imposed), Webb weights, 9,999 draws: with 11 sites (6^11 draws) both p-values are
Monte Carlo estimates, so the test compares them within Monte Carlo error.

    python3 wild.py /tmp/cohort.csv      # writes wild_reference.json
"""
import json
import sys

import numpy as np
import pandas as pd
import statsmodels.api as sm
from wildboottest.wildboottest import wildboottest

d = pd.read_csv(sys.argv[1], dtype={"child_id": str, "site_id": str})
m = d[d["weights"] > 0].reset_index(drop=True)
out = {}


def wild(y, w, name):
    r = np.sqrt(w)
    X = pd.DataFrame({"const": r, "treated": r * m["treated"]})
    model = sm.OLS(y * r, X)
    res = wildboottest(model, param="treated", cluster=pd.Series(pd.factorize(m["site_id"])[0]), B=9999, weights_type="webb",
                       impose_null=True, bootstrap_type="11", seed=20091, show=False)
    out[name] = float(np.asarray(res["p-value"]).ravel()[0])
    print(name, out[name])


for outcome in ["sw_changes", "placement_moves"]:
    wild(m[outcome] / m["exposure_years"], m["weights"] * m["exposure_years"], f"{outcome}:rate_difference")
wild(m["three_plus_placements"], m["weights"], "three_plus_placements:risk_difference")
json.dump(out, open("wild_reference.json", "w"), indent=1)
