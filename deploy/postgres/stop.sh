#!/usr/bin/env bash
# Stops the cluster started by deploy/postgres/start.sh; harmless when it is not running.
set -euo pipefail
SCRIPT_NAME=postgres
source "$(dirname "$0")/../lib.sh"
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
DIR=$(cat "$REPO_ROOT/var/postgres.dir" 2>/dev/null || echo "${SONGDA_PG_DIR:-$REPO_ROOT/var/postgres}")
if [ -z "$BIN" ] || [ ! -f "$DIR/data/PG_VERSION" ]; then say "no cluster to stop"; exit 0; fi
RUN=(); [ "$(id -u)" = 0 ] && RUN=(runuser -u postgres --)
if "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null && say "stopped"
else
  say "not running"
fi
