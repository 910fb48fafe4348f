#!/usr/bin/env bash
# Why: the ONE prepared script a session with an NVIDIA GPU (H100/H200, sm_90) runs for the CUDA
# backend (docs/cuda.md): build the CUDA targets for sm_90 into build/gpu, run the tests
# labelled gpu, run the GPU benchmark, build the Python package with the CUDA backend and run
# the torch op's CUDA tests and benchmark; every log plus the benchmark JSON goes to $OUT.
# Every step runs even when an earlier one failed (so all logs come back); the exit status is
# non-zero when any step failed. Budget (not yet measured on a device): ~10-12 minutes on a
# 16-core machine (C++ build ~3-4 min, tests ~1 min, benchmark ~1-2 min, Python build ~3 min,
# CUDA op tests ~1 min, torch benchmark ~2 min); each step has its own timeout. With a
# 10-minute limit per command, run it in two calls: --cpp-only, then --python-only.
#
# Usage (from the repository root):
#   OUT=/some/dir bash scripts/gpu_check.sh [--quick]
#     --quick        benchmark n = 4096,16384 only (drops 64K and its dense baseline)
#     --cpp-only     the C++ steps only (configure, build, ctest -L gpu, bench_attention_cuda)
#     --python-only  the Python steps only (package build, CUDA op tests, torch benchmark)
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
RUN_CPP=1
RUN_PYTHON=1
for arg in "$@"; do
  case "$arg" in
    --quick) SIZES="4096,16384" ;;
    --cpp-only) RUN_PYTHON=0 ;;
    --python-only) RUN_CPP=0 ;;
    *) echo "gpu_check.sh: unknown option '$arg' (--quick, --cpp-only, --python-only)" >&2
       exit 2 ;;
  esac
done
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

if [ "$RUN_CPP" = 1 ]; then
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
fi

if [ "$RUN_PYTHON" = 1 ]; then
  # The torch op on CUDA tensors (docs/python.md, CUDA): the package built with the CUDA backend
  # for $CUDA_ARCH into a --target folder (the machine's python3 holds torch, nanobind and
  # scikit-build-core; nothing is downloaded), then its CUDA tests (none may skip) and the torch
  # benchmark on the GPU.
  PYSITE="${PYSITE:-/tmp/diffuser-site}"
  step python_build 420 python3 -m pip install -q --no-index --no-deps --no-build-isolation \
    --target "$PYSITE" --upgrade --config-settings=build-dir=build/python-gpu \
    --config-settings=cmake.define.DIFFUSER_CUDA=ON \
    --config-settings=cmake.define.CMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH" .
  step pytest_cuda 420 env PYTHONPATH="$PYSITE" python3 -m pytest -q -rs -p no:cacheprovider \
    python/tests/test_cuda_op.py python/tests/test_torch_op.py
  if grep -q "test_cuda_op.py.*needs a CUDA device" "$OUT/pytest_cuda.log" 2>/dev/null; then
    echo "pytest_cuda: FAILED: CUDA op tests were skipped (no usable device?)" | tee -a "$SUMMARY"
    failed=1
  fi
  step bench_torch_op_cuda 420 env PYTHONPATH="$PYSITE" python3 bench/bench_torch_op.py \
    --device cuda --max-gib 40 --json "$OUT/bench_torch_op_cuda.json"
fi

echo "summary ($SUMMARY):"
cat "$SUMMARY"
exit "$failed"
