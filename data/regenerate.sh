#!/usr/bin/env bash
# Regenerates data/sample byte for byte: a synthetic dataset (not real children) passed through
# the anonymiser. The key below is public on purpose: the data are synthetic, so it protects
# nothing; real extracts need a private key (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo run --quiet -- synth "$tmp/raw" --seed 2009 --scale small
printf 'swp-eval public sample key: the sample is synthetic' > "$tmp/key"
rm -rf data/sample.new
cargo run --quiet -- anonymise "$tmp/raw" data/sample.new --key-file "$tmp/key" --generalise --config data/evaluation.toml
rm -rf data/sample
mv data/sample.new data/sample
