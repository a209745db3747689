"""Peer of survival-bench: the Kaplan-Meier curve of everyone and the Cox model of time to event
on treatment (Efron ties) with lifelines, as an evaluator writes it in Python.
Usage: python3 survival_python.py FILE.csv
Prints one JSON object: seconds (reading included; imports excluded), km_median, cox_coef, cox_se.
"""
import json
import math
import sys
import time

import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter

start = time.perf_counter()
data = pd.read_csv(sys.argv[1])
km = KaplanMeierFitter().fit(data["time"], data["event"])
# lifelines stops at a 1e-7 step by default; a tighter stop makes it comparable to 1e-6
cph = CoxPHFitter().fit(data[["time", "event", "treated"]], duration_col="time", event_col="event",
                        fit_options={"precision": 1e-12})
seconds = time.perf_counter() - start
median = float(km.median_survival_time_)
print(json.dumps({"seconds": seconds, "km_median": None if math.isinf(median) else median,
                  "cox_coef": float(cph.params_["treated"]), "cox_se": float(cph.standard_errors_["treated"])}))
