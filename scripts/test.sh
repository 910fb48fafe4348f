#!/usr/bin/env bash
# README command (2): set up the machine, build (Release; CUDA code too when nvcc exists) and
# run the test suite, then the Python package's (scripts/test_python.sh: venv, pip install .,
# pytest). Extra arguments go to ctest alone, e.g. `bash scripts/test.sh -L slow` (then the
# Python suite does not run). Default: every C++ test except those labelled slow, then pytest;
# DIFFUSER_PYTHON_TESTS=0 leaves the Python suite out (said so at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"
python_tests=1
if [ "$#" -eq 0 ]; then set -- -LE slow; else python_tests=0; fi
ctest --preset release --no-tests=error "$@"
if [ "${DIFFUSER_PYTHON_TESTS:-1}" = "0" ]; then
  echo "test.sh: Python suite NOT run (DIFFUSER_PYTHON_TESTS=0)"
elif [ "$python_tests" = "1" ]; then
  bash scripts/test_python.sh
fi
