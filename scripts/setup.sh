#!/usr/bin/env bash
# Installs the Debian 12 packages BitScrape needs to build, run and test.
# Idempotent: prints nothing and installs nothing when every package is present.
# Usage: scripts/setup.sh [--test]   (--test adds what the test suite and benchmarks need)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libasio-dev libssl-dev libsqlite3-dev libpq-dev libzstd-dev
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev
)
test_pkgs=(
  clang libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libtorrent-rasterbar-dev python3-libtorrent
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
