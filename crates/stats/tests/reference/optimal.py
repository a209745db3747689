"""Reference for optimal 1:1 pair matching (issue 5).

R's optmatch (which MatchIt's method = "optimal" calls) is not in Debian's packages, so the
reference is scipy's linear_sum_assignment (Jonker-Volgenant) on the treated x control matrix
of absolute propensity-score differences: the matching with the smallest total distance, the
objective optmatch minimises. The propensity scores are R's (the `distance` of the
`*_nearest.json` cases, from glm). Run from this directory: python3 optimal.py
(Python 3.11, numpy, scipy 1.17).
"""
import json

import numpy as np
from scipy.optimize import linear_sum_assignment

for name in ["lalonde", "generated"]:
    case = json.load(open(f"{name}_nearest.json"))
    d = np.array(case["distance"])
    treat = np.array([int(line.split(",")[0]) for line in open(f"{name}.csv").read().split()[1:]])
    t_idx = np.flatnonzero(treat == 1)
    c_idx = np.flatnonzero(treat == 0)
    cost = np.abs(d[t_idx][:, None] - d[c_idx][None, :])
    rows, cols = linear_sum_assignment(cost)
    pairs = {int(t_idx[r]) + 1: int(c_idx[c]) + 1 for r, c in zip(rows, cols)}
    out = {
        "total_distance": float(cost[rows, cols].sum()),
        "pairs": [[t, pairs[t]] for t in sorted(pairs)],
    }
    json.dump(out, open(f"{name}_optimal.json", "w"), indent=None)
    print(name, out["total_distance"])
