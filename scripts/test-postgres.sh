#!/usr/bin/env bash
# Throwaway PostgreSQL for tests: `start DIR PORT` creates and starts a cluster in DIR, `stop DIR` stops it and deletes DIR.
#
#   url=$(scripts/test-postgres.sh start /tmp/lablog-pg 54329)   # prints postgres://postgres@127.0.0.1:54329/postgres
#   LABLOG_TEST_POSTGRES_URL=$url npm test
#   scripts/test-postgres.sh stop /tmp/lablog-pg
#
# The same commands as test/global-setup.ts (see DESIGN.md). initdb refuses to run as root, so as root the
# commands run as the `postgres` user, which must own DIR.
set -euo pipefail

BIN="${LABLOG_PG_BIN:-/usr/lib/postgresql/15/bin}"

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}

# Runs a command as the postgres user when we are root, else as ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || usage

case "$cmd" in
  start)
    port="${3:-}"
    [ -n "$port" ] || usage
    [ -x "$BIN/initdb" ] || { echo "no PostgreSQL binaries in $BIN (apt-get install -y postgresql)" >&2; exit 1; }
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    # Server output goes to a log file: a server holding our stdout would keep a caller's pipe open.
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null \
      || { cat "$dir/postgres.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    usage
    ;;
esac
