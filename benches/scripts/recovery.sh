#!/usr/bin/env bash
# Recovery study of the evaluation (issue "The evaluation", bar "Recovery"): for seeds 1..N,
# a pilot-scale synthetic dataset with the default effects and one with every effect off
# (1.0), each evaluated with the index date at the last pilot go-live (so the whole follow-up
# is after every go-live); prints the coverage of the true rate ratios by the primary rows'
# 95% intervals and the rejection rate at 5% under the null.
#
#   cargo build --release && benches/scripts/recovery.sh 50
#   ARMS=null FIRST=51 benches/scripts/recovery.sh 250    # more null datasets only (seeds 51..250)
set -euo pipefail
n="${1:-50}"
bin="${CARGO_TARGET_DIR:-target}/release/swp-eval"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for seed in $(seq "${FIRST:-1}" "$n"); do
  for arm in ${ARMS:-effect null}; do
    if [ "$arm" = effect ]; then extra=(); else
      extra=(--effect turnover=1 --effect caseload=1 --effect sw_changes=1 --effect placement_moves=1); fi
    "$bin" synth "$work/d" --seed "$seed" --scale pilot "${extra[@]}" > /dev/null 2>&1
    last=$(awk -F, 'NR > 1 && $3 == "pilot" { print $5 }' "$work/d/sites.csv" | sort | tail -1)
    printf '[cohort]\nindex_date = "%s"\n' "$last" > "$work/c.toml"
    "$bin" report "$work/d" --config "$work/c.toml" --out "$work/r" > /dev/null 2>&1
    python3 - "$work/r/effects.json" "$seed" "$arm" >> "$work/rows.tsv" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
for r in rows:
    if r["primary"] and r["estimate_type"] == "rate_ratio":
        print("\t".join(map(str, [sys.argv[2], sys.argv[3], r["outcome"], r["estimate"], r["ci_low"], r["ci_high"], r["p_value"], r["wild_p_value"]])))
PY
  done
done
python3 - "$work/rows.tsv" <<'PY'
import sys, statistics
truth = {"sw_changes": 0.6, "placement_moves": 0.8}
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
for outcome, t in truth.items():
    eff = [r for r in rows if r[1] == "effect" and r[2] == outcome]
    null = [r for r in rows if r[1] == "null" and r[2] == outcome]
    cover = sum(float(r[4]) <= t <= float(r[5]) for r in eff)
    est = [float(r[3]) for r in eff] or [float("nan")]
    reject = sum(float(r[6]) < 0.05 for r in null)
    wild = sum(float(r[7]) < 0.05 for r in null)
    print(f"{outcome}: true {t}; median estimate {statistics.median(est):.3f}; "
          f"coverage {cover}/{len(eff)}; null rejections at 5%: CR2 {reject}/{len(null)}, wild {wild}/{len(null)}")
PY
