#!/usr/bin/env bash
# The Python half of README command (2), called by scripts/test.sh after the C++ suite (it can
# also run alone once build/release exists): a venv with Debian's python3, `pip install .` of
# the package (extension module diffuser._core over the static C++ libraries), then pytest.
# The CLI-parity tests run build/release/cli/diffuser. torch comes from PyPI (~3 GB with its
# CUDA libraries): pip keeps its downloads in PIP_CACHE_DIR (default ~/.cache/pip), so later
# runs on the same machine do not download it again. Extra arguments go to pytest.
# DIFFUSER_PYTHON_CUDA=auto (default) builds the module with the CUDA backend when nvcc exists
# (build folder build/python-cuda; the CUDA tests skip visibly without a GPU), ON requires it,
# OFF builds the CPU-only module (build/python).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${DIFFUSER_VENV:-build/pyenv}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
if [ ! -x "$VENV/bin/python" ]; then
  echo "test_python.sh: creating the venv $VENV"
  /usr/bin/python3 -m venv "$VENV"
fi
PY="$(cd "$VENV" && pwd)/bin/python"
echo "test_python.sh: build and test requirements (pip cache: $PIP_CACHE_DIR)"
time "$PY" -m pip install -q "scikit-build-core>=0.10" "nanobind>=2.0" "numpy>=1.22" \
  "scipy>=1.8" "pytest>=7" "torch>=2.4"
want_cuda="${DIFFUSER_PYTHON_CUDA:-auto}"
case "$want_cuda" in
  auto) if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
          want_cuda=ON; else want_cuda=OFF; fi ;;
  ON|OFF) ;;
  *) echo "test_python.sh: DIFFUSER_PYTHON_CUDA must be auto, ON or OFF (got '$want_cuda')" >&2
     exit 2 ;;
esac
builddir=build/python
[ "$want_cuda" = ON ] && builddir=build/python-cuda
echo "test_python.sh: pip install . (CUDA backend $want_cuda, build folder $builddir)"
time "$PY" -m pip install -q --no-build-isolation --config-settings=build-dir="$builddir" \
  --config-settings=cmake.define.DIFFUSER_CUDA="$want_cuda" .
cli="${DIFFUSER_CLI:-build/release/cli/diffuser}"
[ -x "$cli" ] || { echo "test_python.sh: $cli missing: run scripts/test.sh (it builds it)" >&2; exit 1; }
# Run from outside the source tree so that `import diffuser` is the installed package.
cli="$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli")"
tests="$(pwd)/python/tests"
cd build
# -rs: every skipped test is listed with its reason (the GPU tests on a machine without one).
DIFFUSER_CLI="$cli" "$PY" -m pytest -q -rs -p no:cacheprovider "$tests" "$@"
