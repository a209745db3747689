"""The wildboottest side of `boot-bench`: the wild cluster bootstrap (WCR, Webb weights,
9,999 replications) of the difference-in-differences coefficient, timed around the
wildboottest call only (reading the CSV and building the model are not timed).
Usage: python3 wildboot_bench.py FILE.csv"""
import json
import sys
import time

import pandas as pd
import statsmodels.formula.api as smf
from wildboottest.wildboottest import wildboottest

data = pd.read_csv(sys.argv[1])
model = smf.ols("y ~ pilot * post", data=data)
start = time.perf_counter()
res = wildboottest(model, param="pilot:post", cluster=data["site"], B=9999, weights_type="webb",
                   impose_null=True, bootstrap_type="11", seed=1, show=False)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "p": float(res["p-value"].iloc[0])}))
