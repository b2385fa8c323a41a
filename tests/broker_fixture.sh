#!/usr/bin/env bash
# CTest fixture for the integration tests: `up` starts the test broker unless
# one is already running (or BROOK_BOOTSTRAP_SERVERS names a cluster), `down`
# stops it only if `up` started it, so a developer's broker survives a test run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kafka="$here/../scripts/kafka"
dir=${BROOK_KAFKA_DIR:?BROOK_KAFKA_DIR must be set by CTest}
marker="$dir.started-by-ctest"
case "$1" in
  up)
    if [ -n "${BROOK_BOOTSTRAP_SERVERS:-}" ]; then
      echo "using BROOK_BOOTSTRAP_SERVERS=$BROOK_BOOTSTRAP_SERVERS"
      exit 0
    fi
    if "$kafka" status >/dev/null 2>&1; then
      echo "using the running broker: $("$kafka" status)"
      exit 0
    fi
    "$kafka" up
    touch "$marker" ;;
  down)
    if [ -f "$marker" ]; then
      rm -f "$marker"
      "$kafka" down
    fi ;;
esac
