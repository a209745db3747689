#!/usr/bin/env bash
# Recovery, coverage and size of the site-level staggered DiD (issue "Difference-in-differences
# for staggered go-lives"): for seeds FIRST..N, two synthetic datasets at SCALE with the same seed,
# one with the default planted effects (turnover x 0.6, caseload x 0.7 at pilots from go-live) and
# one with every effect 1, each run through `swp-eval report` (placebo off, ASSIGN randomisation
# assignments). The truth of the simple ATT on each metric's own scale is not a ratio: it is
# estimated as the mean over seeds of (pilot sites' post-go-live mean with the effect - the same
# without it), the implied difference. Prints the median estimate, the truth, the coverage of the
# normal (influence-function) 95% interval and of the randomisation interval (test inversion),
# the randomisation test's rejection rate with the
# effect, and the rejection rates of both tests with no effect (size), with Monte Carlo SEs.
#
#   cargo build --release
#   SCALE=pilot ASSIGN=200 benches/scripts/site_did.sh 50
set -euo pipefail
n="${1:-50}"
bin="${CARGO_TARGET_DIR:-target}/release/swp-eval"
scale="${SCALE:-pilot}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="${OUT:-$work/rows.tsv}"
: > "$out"
printf '[inference]\nbootstrap_reps = 199\nrandomisation_assignments = %s\n[placebo]\nenabled = false\n' \
  "${ASSIGN:-200}" > "$work/c.toml"
for seed in $(seq "${FIRST:-1}" "$n"); do
  for arm in effect null; do
    extra=()
    if [ "$arm" = null ]; then extra=(--effect turnover=1 --effect caseload=1 --effect sw_changes=1 --effect placement_moves=1); fi
    "$bin" synth "$work/d" --seed "$seed" --scale "$scale" "${extra[@]}" > /dev/null 2>&1
    if ! "$bin" report "$work/d" --config "$work/c.toml" --out "$work/r" > /dev/null 2> "$work/err"; then
      echo "seed $seed $arm: report failed: $(tail -1 "$work/err")" >&2
      continue
    fi
    python3 - "$work/r" "$seed" "$arm" >> "$out" <<'PY'
import json, os, sys
d, seed, arm = sys.argv[1:4]
did = json.load(open(os.path.join(d, "site_did.json")))
panel = json.load(open(os.path.join(d, "site_panel.json")))
for metric in ["turnover_rate", "caseload_per_fte"]:
    r = next(x for x in did if x["metric"] == metric and x["pilots"] == "all" and x["estimator"] == "cs" and x["type"] == "simple")
    # pilot sites' mean over the years wholly under the pilot (treated_share 1)
    post = [x["value"] for x in panel if x["metric"] == metric and x["arm"] == "pilot" and x["treated_share"] == 1 and x["value"] is not None]
    post_mean = sum(post) / len(post) if post else None
    print("\t".join(map(str, [seed, arm, metric, r["estimate"], r["ci_low"], r["ci_high"], r["p_value"], r["ri_p_value"], post_mean,
                              r.get("ri_ci_low"), r.get("ri_ci_high")])))
PY
  done
done
python3 - "$out" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
num = lambda x: None if x in ("None", "") else float(x)
def rate(values):
    v = [x for x in values if x is not None]
    k = sum(x < 0.05 for x in v)
    p = k / max(len(v), 1)
    return f"{k}/{len(v)} = {100 * p:.1f}% (MC SE {100 * (p * (1 - p) / max(len(v), 1)) ** 0.5:.1f})"
for metric in ["turnover_rate", "caseload_per_fte"]:
    eff = {r[0]: r for r in rows if r[2] == metric and r[1] == "effect"}
    nul = {r[0]: r for r in rows if r[2] == metric and r[1] == "null"}
    diffs = [num(eff[s][8]) - num(nul[s][8]) for s in eff if s in nul and num(eff[s][8]) is not None and num(nul[s][8]) is not None]
    truth = statistics.mean(diffs)
    base = statistics.mean([num(nul[s][8]) for s in nul if num(nul[s][8]) is not None])
    est = [num(r[3]) for r in eff.values() if num(r[3]) is not None]
    cover = [num(r[4]) <= truth <= num(r[5]) for r in eff.values() if num(r[4]) is not None]
    # the randomisation interval (an open end: no rejection found within 64 SEs on that side)
    ri_cover = [(num(r[9]) is None or num(r[9]) <= truth) and (num(r[10]) is None or truth <= num(r[10]))
                for r in eff.values() if len(r) > 10]
    ri_null = [(num(r[9]) is None or num(r[9]) <= 0) and (num(r[10]) is None or 0 <= num(r[10]))
               for r in nul.values() if len(r) > 10]
    print(f"{metric}: {len(eff)} datasets with the effect; implied difference (truth) {truth:.4f} "
          f"(pilots' post-go-live mean {base:.4f} without the effect); median estimate {statistics.median(est):.4f}; "
          f"normal 95% interval covers the truth in {sum(cover)}/{len(cover)}; randomisation interval in {sum(ri_cover)}/{len(ri_cover)}; "
          f"RI rejects in {rate([num(r[7]) for r in eff.values()])}")
    print(f"  no effect ({len(nul)} datasets): rejections at 5%: normal {rate([num(r[6]) for r in nul.values()])}; "
          f"RI {rate([num(r[7]) for r in nul.values()])}; "
          f"coverage of 0 by the normal interval {sum(num(r[4]) <= 0 <= num(r[5]) for r in nul.values() if num(r[4]) is not None)}/{len(nul)}, "
          f"by the randomisation interval {sum(ri_null)}/{len(ri_null)}")
PY
