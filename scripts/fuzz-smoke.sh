#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan+UBSan) and runs each for SECONDS (default 60) on a
# copy of its seed corpus. Fails on the first crash, leak or timeout; the reproducer is kept in
# build/fuzz-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzzers
mkdir -p build/fuzz-artifacts
for bin in build/fuzz/fuzz/fuzz_*; do
  [[ -x "$bin" ]] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  work=$(mktemp -d)
  [[ -d "fuzz/corpus/$name" ]] && cp -r "fuzz/corpus/$name/." "$work/"
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix=build/fuzz-artifacts/"$name"- >"build/fuzz-artifacts/$name.log" 2>&1; then
    tail -50 "build/fuzz-artifacts/$name.log"
    echo "fuzz: $name FAILED" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|Done" "build/fuzz-artifacts/$name.log" | tail -2
  rm -rf "$work"
done
