"""Reference for swp-stats' CR2 covariance of an inverse-variance model whose working variances
span many orders of magnitude within a cluster (regression.rs, the resolvent path): the
covariance computed from its definition (clubSandwich's CR2 for a glm, inverse_var = TRUE:
A_g = S G^(-1/2) S with S = Theta_g^(1/2), G = S (Theta_g - D_g M D_g') S, u_g = D_g' W_g A_g e_g,
V = M (sum u_g u_g') M) in 60-digit arithmetic with mpmath, where a double-precision dense
eigen-decomposition of G loses the small eigenvalues (R's clubSandwich gives SEs that move by
up to 5% when the same data are put in another row order).

    python3 graded_cr2.py > graded_cr2.json      (mpmath 1.3; the data are generated here)
"""
import json
import random

import mpmath as mp

mp.mp.dps = 60
rng = random.Random(20261207)
clusters, size, k = 3, 14, 3
rows = []
for g in range(clusters):
    for i in range(size):
        treated = 1.0 if (g + i) % 3 == 0 else 0.0
        x = round(rng.uniform(-1, 1), 6)
        # weights from 1e-8 to 10 (a balancing weight near 0 times a fitted rate)
        w = 10 ** rng.uniform(-8, 1)
        w = float(f"{w:.6e}")
        e = round(rng.gauss(0, 1), 6)
        rows.append({"cluster": g, "d": [1.0, treated, x], "w": w, "e": e})

D = mp.matrix([[mp.mpf(v) for v in r["d"]] for r in rows])
W = [mp.mpf(r["w"]) for r in rows]
E = [mp.mpf(r["e"]) for r in rows]
n = len(rows)
dwd = mp.matrix(k, k)
for i in range(n):
    for a in range(k):
        for b in range(k):
            dwd[a, b] += W[i] * D[i, a] * D[i, b]
M = dwd ** -1
meat = mp.matrix(k, k)
for g in range(clusters):
    idx = [i for i in range(n) if rows[i]["cluster"] == g]
    m = len(idx)
    s = [mp.sqrt(1 / W[i]) for i in idx]
    G = mp.matrix(m, m)
    for a, i in enumerate(idx):
        for b, j in enumerate(idx):
            dmd = sum(D[i, p] * M[p, q] * D[j, q] for p in range(k) for q in range(k))
            theta = 1 / W[i] if a == b else 0
            G[a, b] = s[a] * (theta - dmd) * s[b]
    values, vectors = mp.eigsy(G)
    root = mp.matrix(m, m)
    for a in range(m):
        for b in range(m):
            root[a, b] = sum(vectors[a, l] * vectors[b, l] / mp.sqrt(values[l]) for l in range(m))
    x = [s[a] * E[i] for a, i in enumerate(idx)]
    y = [sum(root[a, b] * x[b] for b in range(m)) for a in range(m)]
    ae = [s[a] * y[a] for a in range(m)]
    u = [sum(D[i, p] * W[i] * ae[a] for a, i in enumerate(idx)) for p in range(k)]
    for p in range(k):
        for q in range(k):
            meat[p, q] += u[p] * u[q]
V = M * meat * M
print(json.dumps({
    "rows": rows,
    "vcov": [[float(V[a, b]) for b in range(k)] for a in range(k)],
    "smallest_eigenvalue_spread": "G's eigenvalues span about 1e16 in each cluster",
    "mpmath": mp.__version__, "digits": mp.mp.dps,
}, indent=1))
