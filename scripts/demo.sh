#!/usr/bin/env bash
# Try BitScrape offline, in one command: builds it if needed, starts a local testnet (our DHT
# nodes and seeders on 127.0.30.x/127.0.31.x, nothing leaves the machine), then crawls it with
# the web UI on http://127.0.0.1:8080/. Ctrl-C stops both.
#
#   ./scripts/demo.sh [NODES=300] [TORRENTS=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
nodes="${1:-300}"
torrents="${2:-1000}"
bin="${BITSCRAPE:-build/release/bitscrape}"
if [[ ! -x "$bin" ]]; then
  ./scripts/setup.sh && cmake --preset release && cmake --build --preset release
fi
work="$(mktemp -d -t bitscrape-demo-XXXXXX)"
# A short BEP-51 interval so every torrent shows up in some node's sample within minutes
# (libtorrent-like nodes serve one fixed sample per interval; see docs/testnet.md).
"$bin" testnet --nodes "$nodes" --torrents "$torrents" --net 127.0.30 --sample-interval 120 \
  --manifest "$work/manifest.json" --status-interval 0 >"$work/testnet.log" 2>&1 &
testnet=$!
trap 'kill "$testnet" 2>/dev/null; wait "$testnet" 2>/dev/null; echo "demo files in $work"' EXIT
until grep -q '^READY' "$work/testnet.log"; do
  if ! kill -0 "$testnet" 2>/dev/null; then cat "$work/testnet.log"; exit 1; fi
  sleep 0.5
done
bootstrap="$(sed -n 's/^bootstrap: //p' "$work/testnet.log" | head -1)"
echo "testnet ready: $nodes nodes, $torrents torrents (ground truth: $work/manifest.json)"
echo "open http://127.0.0.1:8080/ to watch the crawl"
"$bin" crawl --allow-private-addresses --bootstrap "$bootstrap" --listen 127.0.0.1:16881 \
  --db "$work/crawl.db" --web 127.0.0.1:8080
