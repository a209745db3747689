"""Reference values for swp-stats' Rosenbaum bounds (sensitivity.rs), from scipy 1.17:

- Gamma = 1: scipy.stats.wilcoxon(d, alternative="less", correction=False, method="approx")
  (zero differences dropped, tie-corrected variance), and scipy.stats.binomtest for McNemar;
- Gamma > 1: the bound of Rosenbaum (2002, sections 4.3.2-4.3.3) computed with numpy/scipy
  from its definition: T ~ sum of ranks r_i with probability p = Gamma / (1 + Gamma) each,
  normal approximation; McNemar: scipy.stats.binom.sf(k - 1, n, p).
Run from this directory: python3 sensitivity.py  (writes sensitivity.json)
"""
import json

import numpy as np
from scipy import stats

d = np.array([-3.0, -1.0, -2.0, -4.0, 1.0, -5.0, -2.0, 0.0, -6.0, 2.0, -1.5, -3.5])
nz = d[d != 0]
ranks = stats.rankdata(np.abs(nz))
t_neg = ranks[nz < 0].sum()
out = {"d": d.tolist(), "signed_rank": {}, "mcnemar": {}}
out["wilcoxon_scipy_gamma1"] = float(stats.wilcoxon(d, alternative="less", correction=False, method="approx").pvalue)
for gamma in [1.0, 1.5, 2.0, 3.0, 5.0]:
    p = gamma / (1 + gamma)
    z = (t_neg - p * ranks.sum()) / np.sqrt(p * (1 - p) * (ranks ** 2).sum())
    out["signed_rank"][str(gamma)] = float(stats.norm.sf(z))
for n, k in [(10, 8), (40, 35), (200, 120)]:
    for gamma in [1.0, 1.5, 2.0, 3.0]:
        out["mcnemar"][f"{n},{k},{gamma}"] = float(stats.binom.sf(k - 1, n, gamma / (1 + gamma)))
out["binomtest_40_35"] = float(stats.binomtest(35, 40, 0.5, alternative="greater").pvalue)
json.dump(out, open("sensitivity.json", "w"), indent=1)
print(out)
