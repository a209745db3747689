#!/usr/bin/env bash
# Coverage of the matched cost difference (issue 15's bar): on synthetic data whose only
# difference in cost between arms is planted and known, the 95% CR2 interval of
# cost_per_child_year must cover the true difference in at least 85% of 50 seeds.
#
# Each seed is generated twice with the same draws: every activity effect neutral (turnover,
# caseload, sw_changes, placement_moves, visits = 1), contacts with pilot children after
# go-live CONTACT_MINUTES times as long in one copy and unchanged in the other. The cohort and
# the matching do not depend on contact minutes, so the true difference for the matched pilot
# children is their pooled cost per child-year in the first copy minus the second (the
# controls are the same children with the same costs in both). The costs table is removed, so
# that social-worker time is costed bottom up (docs/evaluation.md, value for money).
#
#   bash benches/scripts/cost_coverage.sh [SEEDS=50] [SCALE=small] [CONTACT_MINUTES=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-50}
scale=${SCALE:-small}
ratio=${CONTACT_MINUTES:-2}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/swp-eval-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/swp-eval"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[value_for_money]\nenabled = true\n' > "$work/config.toml"
neutral="--effect turnover=1 --effect caseload=1 --effect sw_changes=1 --effect placement_moves=1 --effect visits=1"
covered=0
for seed in $(seq 1 "$seeds"); do
  for r in "$ratio" 1; do
    # shellcheck disable=SC2086
    "$bin" synth "$work/d$r" --seed "$seed" --scale "$scale" $neutral --effect contact_minutes="$r" > /dev/null 2>&1
    # without the costs table social-worker time is costed bottom up (with it, the sites'
    # staff spending stands in for it, and contact minutes change no one's pay)
    rm -f "$work/d$r/costs.csv"
    rm -rf "$work/out$r"
    "$bin" report "$work/d$r" --config "$work/config.toml" --out "$work/out$r" --no-suppress > /dev/null 2>&1
  done
  line=$(python3 - "$work/out$ratio/effects.json" "$work/out1/effects.json" <<'PY'
import json, sys
row = lambda p: next(r for r in json.load(open(p)) if r["outcome"] == "cost_per_child_year")
a, b = row(sys.argv[1]), row(sys.argv[2])
truth = a["mean_treated"] - b["mean_treated"]
assert abs(a["mean_control"] - b["mean_control"]) < 1e-6, "controls differ between the copies"
print(f"{truth:.2f} {a['estimate']:.2f} {a['ci_low']:.2f} {a['ci_high']:.2f} {int(a['ci_low'] <= truth <= a['ci_high'])}")
PY
)
  echo "seed $seed: truth estimate ci_low ci_high covered = $line"
  covered=$((covered + ${line##* }))
done
echo "covered $covered of $seeds"
