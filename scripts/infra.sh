#!/usr/bin/env bash
# MariaDB and Kafka for tests and the demo, idempotently.
#   scripts/infra.sh up      install if missing, start if not running (fast no-op when running)
#   scripts/infra.sh down    stop what these scripts started, by PID
#   scripts/infra.sh env     print export lines: eval "$(scripts/infra.sh env)"
set -euo pipefail
D=$(dirname "$0")
case "${1:-}" in
  up) bash "$D/mariadb.sh" start; bash "$D/kafka.sh" start ;;
  down) bash "$D/kafka.sh" stop; bash "$D/mariadb.sh" stop ;;
  env) { bash "$D/mariadb.sh" env; bash "$D/kafka.sh" env; } | sed 's/^/export /' ;;
  status) bash "$D/mariadb.sh" status || true; bash "$D/kafka.sh" status || true ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
