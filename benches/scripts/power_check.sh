#!/usr/bin/env bash
# Check of the power simulation (issue "How far can the conclusions be trusted", bar "power"):
# the power the simulation estimates from ONE pilot-scale synthetic dataset, at the effect
# swp-synth planted, against the rejection rate of the evaluation itself over N fresh
# synthetic datasets with that effect. Two settings: swp-synth's default effects (rate ratio
# 0.6 on social-worker changes, 0.8 on placement moves) and weaker ones (0.9 on both), where
# power is far from 1. The index date is the last pilot go-live, so the whole follow-up is
# after every go-live and the planted ratio is the true one.
#
#   cargo build --release && benches/scripts/power_check.sh 200
#   SIMULATIONS=1000 SEED=1 benches/scripts/power_check.sh 200
set -euo pipefail
n="${1:-200}"
bin="${CARGO_TARGET_DIR:-target}/release/swp-eval"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
seed="${SEED:-1}"
config() {  # $1 dataset, $2 extra TOML
  last=$(awk -F, 'NR > 1 && $3 == "pilot" { print $5 }' "$1/sites.csv" | sort | tail -1)
  printf '[cohort]\nindex_date = "%s"\n%s' "$last" "$2"
}
for setting in ${SETTINGS:-default weak}; do
  if [ "$setting" = default ]; then effects=(); else
    effects=(--effect sw_changes=0.9 --effect turnover=0.9 --effect placement_moves=0.9); fi
  "$bin" synth "$work/d" --seed "$seed" --scale pilot "${effects[@]}" > /dev/null 2>&1
  config "$work/d" "$(printf '[power]\nenabled = true\nsimulations = %s\nratios = [0.9, 0.8, 0.7, 0.6, 0.5]\npilot_sites = [5]\n' "${SIMULATIONS:-1000}")" > "$work/c.toml"
  "$bin" report "$work/d" --config "$work/c.toml" --out "$work/r" > /dev/null 2>&1
  cp "$work/r/power.json" "$work/power-$setting.json"
  for s in $(seq $((seed + 1)) $((seed + n))); do
    "$bin" synth "$work/d" --seed "$s" --scale pilot "${effects[@]}" > /dev/null 2>&1
    config "$work/d" "" > "$work/c.toml"
    "$bin" report "$work/d" --config "$work/c.toml" --out "$work/r" > /dev/null 2>&1
    python3 - "$work/r/effects.json" "$setting" >> "$work/rows.tsv" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    if r["primary"]:
        p = r["wild_p_value"] if r["wild_p_value"] is not None else r["p_value"]
        print(f'{sys.argv[2]}\t{r["outcome"]}\t{p}')
PY
  done
done
python3 - "$work" "${SETTINGS:-default weak}" <<'PY'
import json, sys, math
work = sys.argv[1]
rows = [l.split("\t") for l in open(f"{work}/rows.tsv").read().splitlines()]
for setting, truth in [(s, t) for s, t in [("default", {"sw_changes": 0.6, "placement_moves": 0.8, "time_to_sw_change": 0.6, "time_to_placement_move": 0.8}),
                       ("weak", {"sw_changes": 0.9, "placement_moves": 0.9, "time_to_sw_change": 0.9, "time_to_placement_move": 0.9})]
                       if s in sys.argv[2].split()]:
    power = json.load(open(f"{work}/power-{setting}.json"))
    k = power["observed_pilot_sites"]
    print(f"{setting} effects: power simulation of {power['simulations']} evaluations, {k} pilot sites, {power['source_sites']} control sites")
    for outcome, t in truth.items():
        sim = next(r for r in power["rows"] if r["outcome"] == outcome and r["pilot_sites"] == k and abs(r["ratio"] - t) < 1e-9)
        ps = [float(p) for s, o, p in rows if s == setting and o == outcome and p != "None"]
        rate = sum(p < power["alpha"] for p in ps) / len(ps)
        se = math.sqrt(rate * (1 - rate) / len(ps) + sim["mc_se"] ** 2)
        print(f"  {outcome} at {t}: simulated power {sim['power']:.3f}; rejection rate over {len(ps)} fresh datasets {rate:.3f}; "
              f"difference {100 * (sim['power'] - rate):+.1f} points (Monte Carlo SE {100 * se:.1f})")
PY
