#!/usr/bin/env bash
# Starts a PostgreSQL cluster on loopback with one database per service; idempotent.
# Installs Debian's postgresql package when no server is present.
#   SONGDA_PG_PORT (55432)  SONGDA_PG_USER/SONGDA_PG_PASSWORD (songda/songda)
#   SONGDA_PG_DIR           cluster directory (var/postgres, or under /var/lib/postgresql when root)
set -euo pipefail
SCRIPT_NAME=postgres
source "$(dirname "$0")/../lib.sh"

PORT=${SONGDA_PG_PORT:-55432}
PGUSER_NAME=${SONGDA_PG_USER:-songda}
PGPASS=${SONGDA_PG_PASSWORD:-songda}
DATABASES="songda_console songda_intake songda_delivery songda_carrier_gateway songda_evidence"

find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_server() {
  [ -n "$(find_bindir)" ] && return 0
  command -v apt-get >/dev/null || die "no PostgreSQL server found and apt-get is unavailable; install PostgreSQL 15+"
  [ "$(id -u)" = 0 ] || die "no PostgreSQL server found; install it with: sudo apt-get install -y postgresql"
  say "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
    || die "apt-get could not install postgresql"
}

install_server
BIN=$(find_bindir)

# PostgreSQL refuses to run as root, so as root the cluster belongs to the postgres user and lives
# where that user can reach it.
if [ "$(id -u)" = 0 ]; then
  RUN=(runuser -u postgres --)
  DIR=${SONGDA_PG_DIR:-$REPO_ROOT/var/postgres}
  mkdir -p "$DIR"
  chown postgres "$DIR"
  if ! runuser -u postgres -- test -w "$DIR"; then
    DIR=/var/lib/postgresql/songda-$PORT
    mkdir -p "$DIR" && chown postgres "$DIR"
  fi
else
  RUN=()
  DIR=${SONGDA_PG_DIR:-$REPO_ROOT/var/postgres}
  mkdir -p "$DIR"
fi
DATA=$DIR/data
LOG=$DIR/postgres.log
echo "$DIR" > "$REPO_ROOT/var/postgres.dir" 2>/dev/null || { mkdir -p "$REPO_ROOT/var"; echo "$DIR" > "$REPO_ROOT/var/postgres.dir"; }

if [ ! -f "$DATA/PG_VERSION" ]; then
  say "initialising a cluster in $DATA"
  pwfile=$(mktemp); printf '%s\n' "$PGPASS" > "$pwfile"; chmod 644 "$pwfile"
  "${RUN[@]}" "$BIN/initdb" -D "$DATA" -U "$PGUSER_NAME" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >/dev/null || { rm -f "$pwfile"; die "initdb failed"; }
  rm -f "$pwfile"
fi

if "${RUN[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  say "already running on 127.0.0.1:$PORT ($DATA)"
else
  port_open 127.0.0.1 "$PORT" && die "port $PORT is in use by another program; stop it or set SONGDA_PG_PORT"
  "${RUN[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$DATA -c max_connections=300 -c fsync=on" \
      start >/dev/null || die "PostgreSQL did not start; see $LOG"
  say "started PostgreSQL $("$BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PORT ($DATA)"
fi

export PGPASSWORD=$PGPASS
for db in $DATABASES; do
  exists=$(psql -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'")
  [ "$exists" = 1 ] || { psql -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres -qc "CREATE DATABASE $db" && say "created database $db"; }
done
