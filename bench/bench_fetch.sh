#!/bin/bash
# Metadata fetch benchmark: one loopback seeder process (bench_fetch seed, peerwire::Seeder),
# then our FetchService (bench_fetch fetch) and libtorrent magnet links (bench_fetch_lt.py)
# against the SAME seeder, alternating, REPEAT times each; prints every run and the ratio of
# medians (ours / libtorrent verified metadata per second).
#
#   bench/bench_fetch.sh BUILD_DIR            (BUILD_DIR holds bench/bench_fetch)
#   env: TORRENTS=20000 LISTENERS=2000 DELAY_MS=1000 CONNECTIONS=4000 REPEAT=1 PORT=16881
#        TIMEOUT=300 (per fetch run, seconds)
# Every process is bounded by `timeout`; the seeder is killed on exit.
set -u
BUILD=${1:?usage: bench_fetch.sh BUILD_DIR}
BIN=$BUILD/bench/bench_fetch
HERE=$(cd "$(dirname "$0")" && pwd)
TORRENTS=${TORRENTS:-20000}
LISTENERS=${LISTENERS:-2000}
DELAY_MS=${DELAY_MS:-1000}
CONNECTIONS=${CONNECTIONS:-4000}
REPEAT=${REPEAT:-1}
PORT=${PORT:-16881}
TIMEOUT=${TIMEOUT:-300}

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
WORK=$(mktemp -d /tmp/bench_fetch.XXXXXX)
SEED_PID=
cleanup() {
  if [ -n "$SEED_PID" ] && kill -0 "$SEED_PID" 2>/dev/null; then
    kill -TERM "$SEED_PID"
    wait "$SEED_PID" 2>/dev/null
  fi
  [ -f "$WORK/seed.log" ] && grep '^seeder: accepted' "$WORK/seed.log"
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "# $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores; TORRENTS=$TORRENTS LISTENERS=$LISTENERS DELAY_MS=$DELAY_MS CONNECTIONS=$CONNECTIONS REPEAT=$REPEAT"
timeout $((TIMEOUT * (2 * REPEAT + 1) + 120)) "$BIN" seed --torrents "$TORRENTS" --listeners "$LISTENERS" \
  --port "$PORT" --delay-ms "$DELAY_MS" --manifest "$WORK/manifest.csv" >"$WORK/seed.log" 2>&1 &
SEED_PID=$!
for _ in $(seq 600); do grep -q READY "$WORK/seed.log" && break; kill -0 $SEED_PID 2>/dev/null || break; sleep 0.1; done
grep -q READY "$WORK/seed.log" || { cat "$WORK/seed.log"; echo "seeder did not start"; exit 1; }
grep '^seeder:' "$WORK/seed.log"

ours=(); lt=()
for r in $(seq "$REPEAT"); do
  out=$(timeout "$TIMEOUT" "$BIN" fetch --manifest "$WORK/manifest.csv" --connections "$CONNECTIONS")
  echo "$out"
  line=$(grep '^ours: torrents' <<<"$out")
  ours+=("$(sed -n 's/.*metadata_per_s=\([0-9.]*\).*/\1/p' <<<"$line")")
  sleep 2
  out=$(timeout "$TIMEOUT" /usr/bin/python3 "$HERE/bench_fetch_lt.py" "$WORK/manifest.csv" \
           --timeout $((TIMEOUT - 10)) --connections "$CONNECTIONS")
  echo "$out"
  line=$(grep '^libtorrent:' <<<"$out")
  lt+=("$(sed -n 's/.*metadata_per_s=\([0-9.]*\).*/\1/p' <<<"$line")")
  sleep 2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mo=$(median "${ours[@]}"); ml=$(median "${lt[@]}")
awk -v o="$mo" -v l="$ml" 'BEGIN { printf "RESULT ours_metadata_per_s=%s libtorrent_metadata_per_s=%s ratio=%.2fx\n", o, l, (l > 0 ? o / l : 0) }'
