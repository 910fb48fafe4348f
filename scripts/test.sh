#!/usr/bin/env bash
# README command (2): set up the machine, build (Release; CUDA code too when nvcc exists) and
# run the test suite. Extra arguments go to ctest, e.g. `bash scripts/test.sh -L slow`.
# Default: every test except those labelled slow.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"
if [ "$#" -eq 0 ]; then set -- -LE slow; fi
ctest --preset release --no-tests=error "$@"
