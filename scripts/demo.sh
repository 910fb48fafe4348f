#!/usr/bin/env bash
# README command (1): set up the machine, build the `diffuser` executable (Release), and run
# `diffuser demo`: patterns at 16K tokens, spectra, receptive fields, a tiny model trained on
# generated ListOps, its attention, the pictures, and a summary page (docs/viz.md).
# Output goes to demo/ (or the folder given as the first argument); open demo/summary.md.
# Only the executable is built here (the tests and benchmarks are README command (2)'s job).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-demo}
start=$(date +%s)
bash scripts/setup.sh
cmake --preset release
cmake --build --preset release --target diffuser -j "$(nproc)"
build/release/cli/diffuser demo --out "$out"
echo "demo.sh: done in $(($(date +%s) - start)) s; open $out/summary.md"
