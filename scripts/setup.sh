#!/usr/bin/env bash
# Installs the Debian 12 packages BitScrape needs to build, run and test.
# Idempotent: prints nothing and installs nothing when every package is present.
# Usage: scripts/setup.sh [--test]   (--test adds what the test suite and benchmarks need)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libasio-dev libssl-dev libsqlite3-dev libpq-dev libzstd-dev
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev libjs-chart.js
)
test_pkgs=(
  clang libclang-rt-14-dev transmission-daemon transmission-cli
  libgtest-dev libgmock-dev libbenchmark-dev
  libtorrent-rasterbar-dev python3-libtorrent
  chromium postgresql
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

# Node.js runs third-party test peers (webtorrent's bittorrent-dht) and browser tests.
if [[ "${1:-}" == "--test" ]] && ! command -v npm >/dev/null 2>&1; then want+=(nodejs npm); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages the tests use, pinned by package-lock.json; installed without running scripts.
if [[ "${1:-}" == "--test" ]]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  for dir in "$root/tests/interop" "$root/tests/web"; do
    if [[ ! "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]]; then
      echo "setup: npm ci in ${dir#$root/}" >&2
      (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --silent)
    fi
  done
fi
