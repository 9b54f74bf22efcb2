#!/usr/bin/env bash
# Runs a command with Kafka and PostgreSQL up, starting whichever is not running and stopping
# afterwards only what it started. Used by `make test` and `make bench`.
set -euo pipefail
SCRIPT_NAME=with-infra
source "$(dirname "$0")/lib.sh"

export SONGDA_TEST_KAFKA=${SONGDA_TEST_KAFKA:-127.0.0.1:${KAFKA_PORT:-9092}}
export SONGDA_TEST_POSTGRES=${SONGDA_TEST_POSTGRES:-postgresql://${SONGDA_PG_USER:-songda}:${SONGDA_PG_PASSWORD:-songda}@127.0.0.1:${SONGDA_PG_PORT:-55432}/postgres}

started=()
cleanup() {
  local status=$?
  for ((i=${#started[@]}-1; i>=0; i--)); do bash "$REPO_ROOT/deploy/${started[i]}/stop.sh" || true; done
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if port_open 127.0.0.1 "${KAFKA_PORT:-9092}"; then
  bash "$REPO_ROOT/deploy/kafka/start.sh"   # already up: makes sure the topics exist
else
  started+=(kafka); bash "$REPO_ROOT/deploy/kafka/start.sh"
fi
if port_open 127.0.0.1 "${SONGDA_PG_PORT:-55432}"; then
  say "PostgreSQL is already running on 127.0.0.1:${SONGDA_PG_PORT:-55432}"
else
  started+=(postgres); bash "$REPO_ROOT/deploy/postgres/start.sh"
fi
"$@"
