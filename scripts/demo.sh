#!/usr/bin/env bash
# README command (1): set up the machine, build the `diffuser` executable (Release), and run
# scripts/demo.py with it: patterns at 16K tokens, spectra, receptive fields, a tiny model trained
# on generated ListOps, its attention, the pictures, and a summary page (docs/viz.md).
# Output goes to demo/ (or the folder given as the first argument); open demo/summary.md.
# Only the executable is built here, CPU-only (`cpu` preset, build/cpu): the demo runs on the
# CPU, and skipping nvcc keeps command (1) under 10 minutes on a 2-core machine. The tests,
# benchmarks and the CUDA backend are README command (2)'s job (build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-demo}
start=$(date +%s)
bash scripts/setup.sh
cmake --preset cpu
cmake --build --preset cpu --target diffuser -j "$(nproc)"
/usr/bin/python3 scripts/demo.py --diffuser build/cpu/cli/diffuser --out "$out"
echo "demo.sh: done in $(($(date +%s) - start)) s; open $out/summary.md"
