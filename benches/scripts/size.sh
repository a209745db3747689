#!/usr/bin/env bash
# Size and recovery of every printed test of the child-level evaluation (issues "Staggered
# go-lives" and "Honest inference with few pilot sites"): for seeds FIRST..N, a synthetic dataset
# at SCALE (small: the bundled design, 5 pilots and 6 comparison sites; pilot: 5 pilots and 15
# comparison sites) with every planted effect 1 (ARM=null), the default effects (ARM=effect) or
# a pre-existing difference (ARM=pre_trend: effects 1, pilot rates x 0.6 before go-live), run
# through `swp-eval report` with the default config (INDEX overrides the index rule; ASSIGN the
# randomisation assignments; PLACEBO=false skips the placebo; ADJUST=false and INTERACTIONS=false
# set `[estimation]`, default adjusted with interactions; WEIGHTING=ps or entropy weighs in place
# of matching). Writes one TSV row per primary
# estimate and prints each test's rejection rate at 5% (null), or the median estimate and the
# coverage of the planted ratio (effect), with Monte Carlo standard errors.
#
#   cargo build --release
#   SCALE=small ARM=null benches/scripts/size.sh 100
#   SCALE=pilot ARM=effect ASSIGN=200 PLACEBO=false benches/scripts/size.sh 50
#   SCALE=pilot ARM=effect INDEX=earliest ASSIGN=200 PLACEBO=false benches/scripts/size.sh 50
#   SCALE=small ARM=pre_trend benches/scripts/size.sh 50
#   SCALE=small ARM=effect ADJUST=false ASSIGN=100 PLACEBO=false benches/scripts/size.sh 40
#   SCALE=pilot ARM=effect WEIGHTING=entropy ASSIGN=10 PLACEBO=false benches/scripts/size.sh 50
set -euo pipefail
n="${1:-100}"
bin="${CARGO_TARGET_DIR:-target}/release/swp-eval"
scale="${SCALE:-small}"
arm="${ARM:-null}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="${OUT:-$work/rows.tsv}"
: > "$out"
{
  printf '[inference]\nbootstrap_reps = %s\nrandomisation_assignments = %s\n' "${REPS:-999}" "${ASSIGN:-10000}"
  printf '[placebo]\nenabled = %s\n' "${PLACEBO:-true}"
  if [ -n "${INDEX:-}" ]; then printf '[cohort]\nindex = "%s"\n' "$INDEX"; fi
  printf '[estimation]\nadjust = %s\ninteractions = %s\n' "${ADJUST:-true}" "${INTERACTIONS:-true}"
  if [ -n "${WEIGHTING:-}" ]; then printf 'method = "weighting"\nweighting = "%s"\n' "$WEIGHTING"; fi
} > "$work/c.toml"
for seed in $(seq "${FIRST:-1}" "$n"); do
  case "$arm" in
    effect) extra=() ;;
    null) extra=(--effect turnover=1 --effect caseload=1 --effect sw_changes=1 --effect placement_moves=1) ;;
    pre_trend) extra=(--effect turnover=1 --effect caseload=1 --effect sw_changes=1 --effect placement_moves=1 --effect pre_trend=0.6) ;;
  esac
  "$bin" synth "$work/d" --seed "$seed" --scale "$scale" "${extra[@]}" > /dev/null 2>&1
  if ! "$bin" report "$work/d" --config "$work/c.toml" --out "$work/r" > /dev/null 2> "$work/err"; then
    echo "seed $seed: report failed: $(tail -1 "$work/err")" >&2
    continue
  fi
  python3 - "$work/r" "$seed" >> "$out" <<'PY'
import json, os, sys
d, seed = sys.argv[1], sys.argv[2]
rows = json.load(open(os.path.join(d, "effects.json")))
placebo = {}
if os.path.exists(os.path.join(d, "placebo.json")):
    placebo = {r["outcome"]: r for r in json.load(open(os.path.join(d, "placebo.json")))["effects"]}
for r in rows:
    if r["primary"] and r["kind"] != "cost":
        p = placebo.get(r["outcome"], {})
        print("\t".join(map(str, [seed, r["outcome"], r["estimate_type"], r["estimate"], r["ci_low"], r["ci_high"],
              r["p_value"], r["wild_p_value"], r["ri_p_value"], p.get("p_value"), p.get("ri_p_value")])))
PY
done
python3 - "$out" "$arm" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
arm = sys.argv[2]
truth = {"sw_changes": 0.6, "placement_moves": 0.8}
num = lambda x: None if x in ("None", "") else float(x)
def rate(values):
    v = [x for x in values if x is not None]
    if not v:
        return "-"
    k = sum(x < 0.05 for x in v)
    p = k / len(v)
    return f"{k}/{len(v)} = {100 * p:.1f}% (MC SE {100 * (p * (1 - p) / len(v)) ** 0.5:.1f})"
for outcome in dict.fromkeys(r[1] for r in rows):
    these = [r for r in rows if r[1] == outcome]
    line = f"{outcome} ({these[0][2]}), {len(these)} datasets:"
    if arm == "effect" and outcome in truth:
        t = truth[outcome]
        est = [num(r[3]) for r in these if num(r[3]) is not None]
        cover = [num(r[4]) <= t <= num(r[5]) for r in these if num(r[4]) is not None]
        line += f" median estimate {statistics.median(est):.3f} (truth {t}); CR2 95% interval covers it in {sum(cover)}/{len(cover)};"
        import math
        width = [math.log(num(r[5]) / num(r[4])) for r in these if num(r[4]) is not None and num(r[4]) > 0]
        line += f" mean width of the interval (log scale) {statistics.mean(width):.3f};"
        line += f" CR2 rejects 1 in {rate([num(r[6]) for r in these])}; RI rejects 1 in {rate([num(r[8]) for r in these])}"
    elif arm == "effect":
        line += f" median estimate {statistics.median([num(r[3]) for r in these if num(r[3]) is not None]):.3f}"
    else:
        line += f" rejections at 5%: CR2 {rate([num(r[6]) for r in these])}; wild {rate([num(r[7]) for r in these])};"
        line += f" RI {rate([num(r[8]) for r in these])}; placebo CR2 {rate([num(r[9]) for r in these])};"
        line += f" placebo RI {rate([num(r[10]) for r in these])}"
    print(line)
PY
