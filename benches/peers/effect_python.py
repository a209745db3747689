"""Peer of `swp-eval effect --table FILE --group pilot --outcome y --cluster site`: the difference
in means with cluster-robust (CR1) errors from statsmodels, and the wild cluster bootstrap p-value
(WCR, Webb weights, null imposed, 9,999 replications) from wildboottest, as an evaluator writes it
in Python.
Usage: python3 effect_python.py FILE.csv
Prints one JSON object: seconds (reading the CSV, the model, CR1 and the bootstrap; interpreter
start, imports and numba's compilation excluded), difference, se_cr1, wild_p_value, reps.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from wildboottest.wildboottest import wildboottest


def effect(data):
    model = smf.ols("y ~ pilot", data=data)
    clusters = pd.factorize(data["site"])[0]
    fit = model.fit(cov_type="cluster", cov_kwds={"groups": clusters})
    res = wildboottest(model, param="pilot", cluster=clusters, B=9999, weights_type="webb",
                       impose_null=True, bootstrap_type="11", seed=1, show=False)
    return fit, res


# wildboottest compiles its kernels (numba) on first use: a warm-up on a small table keeps the
# compilation out of the timed run (in the peer's favour)
rng = np.random.default_rng(1)
effect(pd.DataFrame({"y": rng.normal(size=200), "pilot": np.repeat([1, 0], 100),
                     "site": np.repeat(np.arange(20), 10)}))
start = time.perf_counter()
data = pd.read_csv(sys.argv[1])
fit, res = effect(data)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "difference": float(fit.params["pilot"]), "se_cr1": float(fit.bse["pilot"]),
                  "wild_p_value": float(res["p-value"].iloc[0]), "reps": 9999}))
