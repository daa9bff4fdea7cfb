#!/usr/bin/env bash
# A private, throw-away PostgreSQL cluster for tests: initdb into a temp dir, listening only on
# a unix socket inside it (no TCP port to collide over), run as an unprivileged user (the
# `postgres` system user when we are root: initdb refuses root), trust auth for the superuser
# `bitscrape`. Bounded in time: every pg_ctl wait has a timeout.
#
#   pg_cluster.sh start STATE_FILE   starts a cluster; STATE_FILE gets "dir uri" on one line
#   pg_cluster.sh stop STATE_FILE    stops it and removes the temp dir (a no-op if none)
#   pg_cluster.sh run -- CMD ARGS... starts one, runs CMD with BITSCRAPE_TEST_PG_URI set, stops it
#
# Missing PostgreSQL binaries are an error (exit 2), never a silent skip: CI installs
# `postgresql` (scripts/setup.sh --test). PG_BINDIR overrides where they are looked for.
set -euo pipefail

find_bindir() {
  if [[ -n "${PG_BINDIR:-}" ]]; then echo "$PG_BINDIR"; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  echo "pg_cluster: no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's postgresql" \
       "(scripts/setup.sh --test) or set PG_BINDIR" >&2
  exit 2
}

# Runs a command as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local state="$1" bindir dir log
  bindir="$(find_bindir)"
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    echo "pg_cluster: running as root needs the 'postgres' system user (Debian's postgresql creates it)" >&2
    exit 2
  fi
  # Short path: a unix socket path must fit in 107 bytes.
  dir="$(mktemp -d /tmp/bs-pg.XXXXXX)"
  chmod 755 "$dir"
  mkdir "$dir/data" "$dir/sock"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir/data" "$dir/sock"; fi
  log="$dir/log"
  touch "$log"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$log"; fi
  if ! as_owner "$bindir/initdb" -D "$dir/data" -U bitscrape --auth=trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    exit 1
  fi
  # Small and fast: no TCP, no fsync (a test cluster is thrown away), few connections.
  if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir/sock' -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=40 \
            -c shared_buffers=32MB" start >/dev/null; then
    cat "$log" >&2
    rm -rf "$dir"
    exit 1
  fi
  # libpq URI with a socket directory as host (percent-encoded path).
  local enc="${dir//\//%2F}"
  echo "$dir postgresql://bitscrape@${enc}%2Fsock/postgres" >"$state"
}

stop() {
  local state="$1" bindir dir
  [[ -f "$state" ]] || return 0
  read -r dir _ <"$state"
  bindir="$(find_bindir)"
  if [[ -n "$dir" && -d "$dir/data" ]]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  [[ -n "$dir" && "$dir" == /tmp/bs-pg.* ]] && rm -rf "$dir"
  rm -f "$state"
}

case "${1:-}" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  run)
    shift
    [[ "${1:-}" == "--" ]] && shift
    state="$(mktemp /tmp/bs-pg-state.XXXXXX)"
    trap 'stop "$state"' EXIT
    start "$state"
    read -r _ uri <"$state"
    BITSCRAPE_TEST_PG_URI="$uri" "$@"
    ;;
  *)
    echo "usage: pg_cluster.sh start|stop STATE_FILE | run -- CMD..." >&2
    exit 2
    ;;
esac
