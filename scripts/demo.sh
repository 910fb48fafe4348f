#!/usr/bin/env bash
# README command (1): set up the machine, build diffuser (Release), and run the main job.
# Output goes to demo/ (or the folder given as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-demo}
bash scripts/setup.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"
mkdir -p "$out"
bin=build/release/cli/diffuser
echo "== building the window 64 + 64 global + 64 random pattern at n = 16384"
"$bin" graph build --n 16384 --window 64 --global 64 --random 64 --seed 0 --out "$out/pattern.mtx"
echo "== its statistics ($out/pattern_stats.json)"
"$bin" graph stats "$out/pattern.mtx" | tee "$out/pattern_stats.json"
