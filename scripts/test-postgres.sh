#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1 for the tests, installing the
# Debian package if it is missing. Source it: it exports
# OUTPOST_TEST_POSTGRES_URL and sets a trap that stops the server on exit.
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(pg_bin)" ]; then
  echo "== installing PostgreSQL (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
PG_BIN="$(pg_bin)"
PG_DATA="$(mktemp -d /tmp/outpost-pg.XXXXXX)"
PG_PORT="${OUTPOST_TEST_PG_PORT:-$((20000 + RANDOM % 20000))}"
# initdb and postgres refuse to run as root; run them as an unprivileged user.
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown -R postgres "$PG_DATA"
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}
run_as_pg "'$PG_BIN/initdb' -D '$PG_DATA' -U outpost --auth=trust -E UTF8 >/dev/null"
run_as_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' -l '$PG_DATA/server.log' -w -o \"-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300\" start >/dev/null"
stop_postgres() {
  run_as_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' -m immediate stop >/dev/null" || true
  rm -rf "$PG_DATA"
}
trap stop_postgres EXIT
export OUTPOST_TEST_POSTGRES_URL="postgres://outpost@127.0.0.1:$PG_PORT/postgres"
echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
