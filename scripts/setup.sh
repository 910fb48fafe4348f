#!/usr/bin/env bash
# Installs every Debian 12 package and Python module diffuser needs. Idempotent: packages
# already present are skipped, so a second run costs a few seconds. Must run as root (or
# with sudo available).
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build git pkg-config ccache
  libeigen3-dev libspectra-dev libboost-graph-dev libfmt-dev catch2
  nlohmann-json3-dev libcli11-dev libomp-dev clang-format zlib1g-dev
  python3 python3-dev python3-numpy python3-matplotlib python3-venv graphviz
  dataset-fashion-mnist fortunes fortunes-min
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup.sh: needs root or sudo to install packages" >&2; exit 1; }
  SUDO="sudo"
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all Debian packages present"
fi

# Plotting scripts run with Debian's interpreter, which has python3-numpy/matplotlib.
echo "setup.sh: done (python for scripts: /usr/bin/python3)"
