#!/usr/bin/env bash
# Stops the broker started by deploy/kafka/start.sh; harmless when it is not running.
set -euo pipefail
SCRIPT_NAME=kafka
source "$(dirname "$0")/../lib.sh"
stop_pid "${SONGDA_KAFKA_DIR:-$REPO_ROOT/var/kafka}/kafka.pid" "the broker"
