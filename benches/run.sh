#!/usr/bin/env bash
# swp-eval against R and Python peers on the same work, in one command (docs/benchmarks.md):
# builds the release binaries, generates the inputs, checks each peer's numbers against
# swp-eval's, times everything interleaved, and writes benches/results/{results.md,
# results.json, scaling.md, scaling.svg, scaling.png}.
#
#   benches/run.sh                  # every task and size, 3 repeats (about 25 minutes here)
#   benches/run.sh --quick          # smallest sizes, to check that everything runs
#   benches/run.sh --only match,effect --repeats 5
#
# Peers that are not installed are skipped with a message. To install them all:
#   apt-get install time r-base-core r-cran-matchit r-cran-sandwich r-cran-clubsandwich r-cran-survival r-cran-jsonlite
#   pip install pandas polars statsmodels wildboottest lifelines
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/swp-eval-target}"
cargo build --release --locked -p swp-eval -p swp-bench
BIN="$CARGO_TARGET_DIR/release"
WORK="${SWP_BENCH_WORK:-${TMPDIR:-/tmp}/swp-bench}"
OUT="${SWP_BENCH_OUT:-benches/results}"
python3 benches/peers/run.py --bin "$BIN" --work "$WORK" --out "$OUT" "$@"
if [[ " $* " != *" --quick "* ]]; then
  "$BIN/bench-curves" "$OUT/results.json" "$OUT"
fi
