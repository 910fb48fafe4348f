#!/usr/bin/env bash
# Why: the ONE prepared script a session with an NVIDIA GPU (H100/H200, sm_90) runs for the CUDA
# backend (docs/cuda.md): build the CUDA targets for sm_90 into build/gpu, run the tests
# labelled gpu, run the GPU benchmark, and copy every log plus the benchmark JSON to $OUT.
# Every step runs even when an earlier one failed (so all logs come back); the exit status is
# non-zero when any step failed. Budget: under 8 minutes on a 16-core machine (build ~3-4 min,
# tests ~1 min, benchmark ~1-2 min); each step has its own timeout.
#
# Usage (from the repository root):
#   OUT=/some/dir bash scripts/gpu_check.sh [--quick]
#     --quick   benchmark n = 4096,16384 only (drops 64K and its dense baseline)
# Environment (all optional):
#   OUT         where logs and JSON go (default: ./gpu_out)
#   BUILD_DIR   build directory (default: build/gpu; an existing configured one is reused)
#   CUDA_ARCH   CMAKE_CUDA_ARCHITECTURES (default: 90)
#   JOBS        parallel build jobs (default: nproc)
#   BENCH_ARGS  extra options for bench_attention_cuda (e.g. "--repeats 20")
#
# Results to read afterwards: $OUT/summary.txt (one line per step), $OUT/ctest_gpu.log and
# $OUT/ctest_gpu.xml (JUnit), $OUT/bench_attention_cuda.log and .json, $OUT/environment.txt.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu_out}"
BUILD_DIR="${BUILD_DIR:-build/gpu}"
CUDA_ARCH="${CUDA_ARCH:-90}"
JOBS="${JOBS:-$(nproc)}"
BENCH_ARGS="${BENCH_ARGS:-}"
SIZES="4096,16384,65536"
if [ "${1:-}" = "--quick" ]; then SIZES="4096,16384"; fi
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
failed=0

# step NAME TIMEOUT_SECONDS COMMAND...: runs COMMAND with its output in $OUT/NAME.log, records
# "NAME: ok (Ns)" or "NAME: FAILED rc=R (Ns)" and never stops the script.
step() {
  local name="$1" limit="$2"
  shift 2
  local start rc
  start=$(date +%s)
  echo "== $name: $*"
  if timeout "$limit" "$@" >"$OUT/$name.log" 2>&1; then rc=0; else rc=$?; fi
  local took=$(($(date +%s) - start))
  if [ "$rc" -eq 0 ]; then
    echo "$name: ok (${took}s)" | tee -a "$SUMMARY"
  else
    [ "$rc" -eq 124 ] && echo "(timed out after ${limit}s)" >>"$OUT/$name.log"
    echo "$name: FAILED rc=$rc (${took}s), see $name.log" | tee -a "$SUMMARY"
    tail -n 30 "$OUT/$name.log" || true
    failed=1
  fi
  return 0
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git revision: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "git status (short):"
  git status --short 2>/dev/null | head -n 50 || true
  echo "--- nvidia-smi"
  nvidia-smi 2>&1 || echo "nvidia-smi not available"
  echo "--- nvcc"
  nvcc --version 2>&1 || /usr/local/cuda/bin/nvcc --version 2>&1 || echo "nvcc not found"
  echo "--- cmake"
  cmake --version 2>&1 || echo "cmake not found"
  echo "--- cpu"
  nproc
} >"$OUT/environment.txt" 2>&1 || true

GENERATOR="Unix Makefiles"
if command -v ninja >/dev/null 2>&1; then GENERATOR="Ninja"; fi

step configure 300 cmake -S . -B "$BUILD_DIR" -G "$GENERATOR" -DCMAKE_BUILD_TYPE=Release \
  -DDIFFUSER_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH" -DDIFFUSER_TESTS=ON \
  -DDIFFUSER_BENCH=ON
step build 420 cmake --build "$BUILD_DIR" -j "$JOBS" --target test_attention_cuda \
  cuda_device_probe bench_attention_cuda
step ctest_gpu 360 ctest --test-dir "$BUILD_DIR" -L gpu --no-tests=error --output-on-failure \
  --timeout 300 --output-junit "$OUT/ctest_gpu.xml"
# A machine with a GPU must not skip: a "Skipped" gpu test means the device was not usable.
if grep -q "Skipped" "$OUT/ctest_gpu.log" 2>/dev/null; then
  echo "ctest_gpu: FAILED: gpu tests were skipped (no usable device?)" | tee -a "$SUMMARY"
  failed=1
fi
cp "$BUILD_DIR/Testing/Temporary/LastTest.log" "$OUT/ctest_LastTest.log" 2>/dev/null || true
# shellcheck disable=SC2086  # BENCH_ARGS is a list of options
step bench_attention_cuda 300 "$BUILD_DIR/bench/bench_attention_cuda" --device cuda \
  --n "$SIZES" --heads 8 --head-dim 64 --json "$OUT/bench_attention_cuda.json" $BENCH_ARGS

echo "summary ($SUMMARY):"
cat "$SUMMARY"
exit "$failed"
