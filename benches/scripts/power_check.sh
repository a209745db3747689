#!/usr/bin/env bash
# Check of the power simulation (issue "How far can the conclusions be trusted", bar "power"):
# the power the simulation estimates from one pilot-scale synthetic dataset (the "data at
# hand"; SOURCES of them, seeds 1..SOURCES, to show how much it varies with the data), at the
# effect swp-synth planted, against the rejection rate of the evaluation itself over N fresh
# synthetic datasets with that effect (seeds 1001..1000+N).
#
# Two settings: swp-synth's default effects (rate ratio 0.6 on social-worker changes, 0.8 on
# placement moves) and weaker ones (0.9), where power is far from 0 and 1. Social-worker changes
# come from reallocations (effect `sw_changes`) and from workers leaving (effect `turnover`), so
# the weak setting sets both to 0.9: the rate ratio of all changes is then 0.9, as it is 0.6
# with the defaults (both 0.6). The index date is the last pilot go-live, so the whole
# follow-up is after every go-live and the planted ratio is the true one.
#
# v1.2: the simulation tests by randomisation inference, so the evaluation's rejection rate is
# that of its randomisation p-value (`ri_p_value`, ASSIGN drawn assignments, default 200, to
# keep N reports short); before v1.2 it was the wild bootstrap's (and the simulation's own).
#
#   cargo build --release && benches/scripts/power_check.sh 200
#   SIMULATIONS=1000 SOURCES=5 SETTINGS="weak" benches/scripts/power_check.sh 200
set -euo pipefail
n="${1:-200}"
bin="${CARGO_TARGET_DIR:-target}/release/swp-eval"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sources="${SOURCES:-5}"
config() {  # $1 dataset, $2 extra TOML
  last=$(awk -F, 'NR > 1 && $3 == "pilot" { print $5 }' "$1/sites.csv" | sort | tail -1)
  printf '[cohort]\nindex_date = "%s"\n%s' "$last" "$2"
}
for setting in ${SETTINGS:-default weak}; do
  if [ "$setting" = default ]; then effects=(); else
    effects=(--effect sw_changes=0.9 --effect turnover=0.9 --effect placement_moves=0.9); fi
  for s in $(seq 1 "$sources"); do
    "$bin" synth "$work/d" --seed "$s" --scale pilot "${effects[@]}" > /dev/null 2>&1
    config "$work/d" "$(printf '[power]\nenabled = true\nsimulations = %s\nratios = [0.9, 0.8, 0.7, 0.6, 0.5]\npilot_sites = [5]\n' "${SIMULATIONS:-1000}")" > "$work/c.toml"
    "$bin" report "$work/d" --config "$work/c.toml" --out "$work/r" > /dev/null 2>&1
    cp "$work/r/power.json" "$work/power-$setting-$s.json"
  done
  for s in $(seq 1001 $((1000 + n))); do
    "$bin" synth "$work/d" --seed "$s" --scale pilot "${effects[@]}" > /dev/null 2>&1
    config "$work/d" "$(printf '[inference]\nrandomisation_assignments = %s\n[placebo]\nenabled = false\n' "${ASSIGN:-200}")" > "$work/c.toml"
    "$bin" report "$work/d" --config "$work/c.toml" --out "$work/r" > /dev/null 2>&1
    python3 - "$work/r/effects.json" "$setting" >> "$work/rows.tsv" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    if r["primary"]:
        p = r["ri_p_value"]
        print(f'{sys.argv[2]}\t{r["outcome"]}\t{p}')
PY
  done
done
python3 - "$work" "${SETTINGS:-default weak}" "$sources" <<'PY'
import json, sys, math, glob
work, settings, sources = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
rows = [l.split("\t") for l in open(f"{work}/rows.tsv").read().splitlines()]
truths = {"default": {"sw_changes": 0.6, "placement_moves": 0.8, "time_to_sw_change": 0.6, "time_to_placement_move": 0.8},
          "weak": {o: 0.9 for o in ["sw_changes", "placement_moves", "time_to_sw_change", "time_to_placement_move"]}}
for setting in settings:
    powers = [json.load(open(f"{work}/power-{setting}-{s}.json")) for s in range(1, sources + 1)]
    p0 = powers[0]
    print(f"{setting} effects: {p0['simulations']} simulated evaluations with {p0['observed_pilot_sites']} pilot sites "
          f"from each of {sources} source datasets; the evaluation on {len(rows) // max(1, len(settings)) // 5} fresh datasets")
    for outcome, t in truths[setting].items():
        picked = [next(r for r in p["rows"] if r["outcome"] == outcome and abs(r["ratio"] - t) < 1e-9) for p in powers]
        sims = [r["power"] for r in picked]
        ps = [float(p) for s, o, p in rows if s == setting and o == outcome and p != "None"]
        rate = sum(p < p0["alpha"] for p in ps) / len(ps)
        mean = sum(sims) / len(sims)
        se = math.sqrt(rate * (1 - rate) / len(ps))
        print(f"  {outcome} at {t}: rejection rate {rate:.3f} (SE {se:.3f}); simulated power per source "
              f"{' '.join(f'{x:.3f}' for x in sims)}; mean {mean:.3f}, difference {100 * (mean - rate):+.1f} points; "
              f"sources within 5 points: {sum(abs(x - rate) <= 0.05 for x in sims)}/{len(sims)}")
PY
