#!/usr/bin/env python3
"""Issue 38's bar "entropy balancing on 200,000 rows x 20 covariates under 1 s end to end, file
reading included": writes a table as pandas writes it (20,000 treated, 180,000 controls; 14
continuous covariates at full precision, the treated shifted by 0.1 to 0.5 SD, and 6 binary
ones with different prevalences), then times `swp-eval weight --method entropy` on it, reading
included, ROUNDS times (median), and checks the balance it reports (every |SMD| after
weighting below 1e-6).

    cargo build --release -p swp-eval
    python3 benches/scripts/entropy_bench.py [ROUNDS]
"""
import json, os, statistics, subprocess, sys, tempfile, time

import numpy as np
import pandas as pd

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "swp-eval")
rng = np.random.default_rng(2009)
n_t, n_c = 20_000, 180_000
treat = np.r_[np.ones(n_t, dtype=int), np.zeros(n_c, dtype=int)]
columns = {"treat": treat}
for j in range(14):
    shift = 0.1 + 0.4 * j / 13
    columns[f"x{j + 1}"] = rng.normal(0.0, 1.0, n_t + n_c) + shift * treat
for j in range(6):
    p_c, p_t = 0.2 + 0.05 * j, 0.3 + 0.05 * j
    columns[f"b{j + 1}"] = (rng.uniform(size=n_t + n_c) < np.where(treat == 1, p_t, p_c)).astype(int)
table = pd.DataFrame(columns)
covariates = [c for c in table.columns if c != "treat"]
with tempfile.TemporaryDirectory() as work:
    path = os.path.join(work, "entropy.csv")
    table.to_csv(path, index=False)
    command = [binary, "weight", "--table", path, "--treatment", "treat", "--covariates", ",".join(covariates),
               "--method", "entropy", "--format", "json"]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        out = subprocess.run(command, capture_output=True, check=True, text=True).stdout
        times.append(time.perf_counter() - start)
    result = json.loads(out)
    smd = [abs(r["smd_after"]) for r in result["balance"] if r.get("smd_after") is not None]
    print(f"{n_t + n_c:,} rows x {len(covariates)} covariates, entropy balancing end to end (reading included): "
          f"median {statistics.median(times):.3f} s over {rounds} runs (min {min(times):.3f}, max {max(times):.3f}); "
          f"largest |SMD| after weighting {max(smd):.2e}; ESS of the controls {result['n']['ess_control']:.0f}")
