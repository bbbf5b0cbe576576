#!/bin/bash
# A throw-away PostgreSQL server for the tests, private to this checkout.
#
#   pg_test_server.sh start   prints "export MISTRAL_TEST_PG_URL=postgresql://..."
#   pg_test_server.sh stop    stops it (and keeps nothing running)
#
# The cluster lives in $MISTRAL_PG_DIR (default: a folder under /tmp named
# after this checkout, so the postgres user can reach it even when the
# checkout sits in /root). It listens on 127.0.0.1 only, on the first free
# port from 55432 up. A server left over by an earlier run in the same
# folder is stopped first, and the test database is re-created empty, so
# `start` can be repeated. Run as root, the server runs as user postgres
# (PostgreSQL refuses root); run as anyone else, it runs as that user.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "pg_test_server: PostgreSQL is not installed (scripts/deps.sh installs it)" >&2
  exit 1
fi
KEY=$(pwd | cksum | cut -d' ' -f1)
DIR="${MISTRAL_PG_DIR:-/tmp/mistral-test-pg-$KEY}"
DATA="$DIR/data"
DB=mistral_test

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_user() {
  if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_server() {
  if [ -f "$DATA/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

init_cluster() {
  mkdir -p "$DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$DIR"; fi
  chmod 700 "$DIR"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    rm -rf "$DATA"
    as_pg "$PG_BIN/initdb" -D "$DATA" -U "$(pg_user)" -A trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 ||
      { cat "$DIR/initdb.log" >&2; exit 1; }
  fi
}

# Tries ports until the server starts on one; prints that port.
start_server() {
  local port
  for port in $(seq 55432 55499); do
    port_in_use "$port" && continue
    if as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c fsync=off" >/dev/null 2>&1; then
      echo "$port"
      return 0
    fi
    # Only a port taken meanwhile is worth another try.
    tail -n 5 "$DIR/server.log" 2>/dev/null | grep -qi "in use\|could not bind\|could not create listen" || break
  done
  echo "pg_test_server: could not start PostgreSQL; see $DIR/server.log" >&2
  tail -n 20 "$DIR/server.log" >&2 || true
  return 1
}

case "${1:-}" in
  start)
    stop_server
    init_cluster
    port=$(start_server)
    psql=("$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U "$(pg_user)" -d postgres -v ON_ERROR_STOP=1 -q)
    "${psql[@]}" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >&2
    echo "export MISTRAL_TEST_PG_URL=postgresql://$(pg_user)@127.0.0.1:$port/$DB"
    ;;
  stop)
    stop_server
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
